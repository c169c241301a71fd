// eslint for the whole tree: typescript-eslint's recommended rules with type information (so
// that a promise nobody awaits or handles is caught: no-floating-promises, no-misused-promises),
// and the project's own architecture rules (one clock on the server, no server -> client or protocol ->
// server/client imports, no route importing another route, typed request accessors).
// `npm run lint` runs it with prettier's check; formatting rules are prettier's alone.
import { fileURLToPath } from 'node:url';
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

/** Node's globals for the few plain JavaScript files (scripts/, jest's config and reporter). */
const NODE_GLOBALS = {
  process: 'readonly',
  console: 'readonly',
  Buffer: 'readonly',
  URL: 'readonly',
  module: 'writable',
  require: 'readonly',
  __dirname: 'readonly',
  setTimeout: 'readonly',
  clearTimeout: 'readonly',
};

/** The fields the auth guards set on a request; read them with staffOf/staffSessionOf/survivorIdOf. */
const REQUEST_AUTH_FIELDS = 'staff|staffSessionHash|staffTotpEnrolled|survivorId';
const noRequestNonNull = {
  selector: `TSNonNullExpression > MemberExpression.expression[property.name=/^(${REQUEST_AUTH_FIELDS})$/]`,
  message:
    'Read what the auth guards set with staffOf(req), staffSessionOf(req) or survivorIdOf(req) (server/http/auth.ts), not a non-null assertion.',
};

/** The server reads the time only from its injected clock (server/clock.ts, ctx.clock). */
const noServerClock = [
  {
    selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']",
    message: 'Read the time from the injected clock (ctx.clock.now()), not Date.now().',
  },
  {
    selector: "NewExpression[callee.name='Date'][arguments.length=0]",
    message: 'Read the time from the injected clock (new Date(ctx.clock.now())), not new Date().',
  },
  { selector: "CallExpression[callee.name='Date']", message: 'Date() reads the machine clock: use the injected clock (ctx.clock).' },
  {
    selector: "CallExpression[callee.name='utcDay'][arguments.length=0]",
    message: 'utcDay() with no argument reads the machine clock: use ctx.clock.today().',
  },
];

export default defineConfig(
  {
    ignores: ['dist/**', 'node_modules/**', 'data/**', 'coverage/**', '.tmp/**'],
  },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        // Each file is checked with the tsconfig that covers it: tsconfig.json for protocol/,
        // server/, migrations/, test/ and bench/; client/tsconfig.json (with the DOM) for
        // client/. The plain JavaScript files belong to no tsconfig and use a default project.
        projectService: {
          allowDefaultProject: ['scripts/*.mjs', 'jest.config.js', 'test/support/*.js', 'eslint.config.mjs'],
        },
        tsconfigRootDir: fileURLToPath(new URL('.', import.meta.url)),
      },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // A deliberate unused binding is written with a leading underscore (express handlers'
      // `_req`, `_next`, jest reporters' `_contexts`, destructuring that drops a field).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      'no-restricted-syntax': ['error', noRequestNonNull],
      // Layout is prettier's. It keeps every semicolon, so a line it starts with `[` or `(`
      // continues the expression above on purpose (supertest's request(app)[method](...)).
      'no-unexpected-multiline': 'off',
    },
  },
  {
    // `any` is where the project meets untyped values on purpose, and the no-unsafe-* rules
    // would only ask for casts that check nothing:
    // - test/: supertest's `res.body` and the JSON vectors are `any`; the tests' assertions are
    //   what checks their shape;
    // - server/db/: the repositories are the typed boundary over knex, whose rows are `any`; each
    //   repository declares its row type and returns typed records;
    // - plain JavaScript (scripts/, jest's config) has no annotations at all.
    files: ['test/**', 'server/db/**', '**/*.js', '**/*.mjs'],
    rules: {
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    // Tests write `any` where they reach into a browser page's globals (globalThis.AwaazCore,
    // the bundled vectors' runner), which no type describes on the node side.
    files: ['test/e2e/**', 'test/vectors/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: NODE_GLOBALS },
  },
  {
    files: ['**/*.js'],
    languageOptions: { sourceType: 'commonjs' },
    rules: {
      // jest.config.js and the reporter are CommonJS because jest loads them with require().
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  {
    files: ['server/**/*.ts'],
    rules: {
      'no-restricted-syntax': ['error', noRequestNonNull, ...noServerClock],
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/client', '**/client/**'],
              message: 'The server does not import client code; share it through protocol/ (or i18n/).',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['server/routes/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/client', '**/client/**'],
              message: 'The server does not import client code; share it through protocol/ (or i18n/).',
            },
            { group: ['./*'], message: 'A route does not import another route: move what they share to server/services/ or server/http/.' },
          ],
        },
      ],
    },
  },
  {
    files: ['protocol/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/server', '**/server/**', '**/client', '**/client/**'],
              message: 'protocol/ is shared by server and client and imports neither.',
            },
          ],
        },
      ],
      // protocol/ runs in node and in browsers and workers alike: no DOM.
      'no-restricted-globals': [
        'error',
        ...['window', 'document', 'navigator', 'location', 'localStorage', 'sessionStorage', 'HTMLElement', 'Element', 'self', 'alert'].map(
          (name) => ({
            name,
            message: 'protocol/ is DOM-free: it runs in node as well as in the browser.',
          }),
        ),
      ],
    },
  },
);
