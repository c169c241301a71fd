/**
 * A real SMTP server for tests of staff alerts (smtp-server on 127.0.0.1, a random port): it
 * offers STARTTLS with a self-signed certificate made here by openssl, requires AUTH, and keeps
 * every message it receives as the mailbox would hold it. `refuse` makes it answer 451 to the
 * next messages (a server that is down for a while).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SMTPServer } from 'smtp-server';

export const SMTP_USER = 'awaaz-alerts';
export const SMTP_PASSWORD = 'smtp password for tests';

export interface ReceivedMail {
  from: string;
  to: string[];
  raw: string;
  /** the message as a reader sees it: quoted-printable soft breaks and escapes undone */
  text: string;
  /** the session had been upgraded to TLS (STARTTLS) */
  secure: boolean;
  /** the authenticated user */
  user: string | undefined;
}

export interface TestSmtpServer {
  port: number;
  /** the PEM certificate to trust (SMTP_CA_FILE) */
  certFile: string;
  inbox: ReceivedMail[];
  refuse: boolean;
  /** the environment that points Awaaz at this server */
  env(extra?: Record<string, string>): Record<string, string>;
  close(): Promise<void>;
}

function decodeQuotedPrintable(s: string): string {
  return s.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

export async function startSmtpServer(): Promise<TestSmtpServer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'awaaz-smtp-'));
  const keyFile = path.join(dir, 'key.pem');
  const certFile = path.join(dir, 'cert.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', keyFile, '-out', certFile,
  ], { stdio: 'ignore' }); // prettier-ignore
  const inbox: ReceivedMail[] = [];
  const state = { refuse: false };
  const smtp = new SMTPServer({
    key: fs.readFileSync(keyFile),
    cert: fs.readFileSync(certFile),
    authMethods: ['PLAIN', 'LOGIN'],
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === SMTP_USER && auth.password === SMTP_PASSWORD) callback(null, { user: SMTP_USER });
      else callback(new Error('bad credentials'));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        if (state.refuse) return callback(Object.assign(new Error('try again later'), { responseCode: 451 }));
        const raw = Buffer.concat(chunks).toString('utf8');
        inbox.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw,
          text: decodeQuotedPrintable(raw),
          secure: session.secure,
          user: session.user as string | undefined,
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  const port = (smtp.server.address() as { port: number }).port;
  return {
    port,
    certFile,
    inbox,
    get refuse() {
      return state.refuse;
    },
    set refuse(v: boolean) {
      state.refuse = v;
    },
    env: (extra = {}) => ({
      SMTP_HOST: '127.0.0.1',
      SMTP_PORT: String(port),
      SMTP_USER,
      SMTP_PASSWORD,
      SMTP_FROM: 'Awaaz alerts <alerts@helpline.example.org>',
      SMTP_CA_FILE: certFile,
      ...extra,
    }),
    async close() {
      await new Promise<void>((resolve) => smtp.close(() => resolve()));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
