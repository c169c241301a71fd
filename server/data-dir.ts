/**
 * The SQLite instance's folder (DATA_DIR), checked at start like the key files
 * (server/config.ts readKeyFile): the database and its -wal and -shm companions hold
 * everything a copy of the server gives away, so the folder and the files must be the server
 * user's alone. And one server process at a time on it: on SQLite the rate-limit counters live
 * in the process's memory (server/db/rate-limit-store.ts), so a second process would count
 * apart and double every limit. A problem stops the start with a ConfigError naming DATA_DIR.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError } from './config';

const refuse = (why: string) => new ConfigError(`invalid configuration: DATA_DIR: ${why}`);
const codeOf = (e: unknown) => (e as NodeJS.ErrnoException).code ?? 'error';
const modeOf = (stat: fs.Stats) => (stat.mode & 0o777).toString(8).padStart(4, '0');
const openToOthers = (stat: fs.Stats) => process.platform !== 'win32' && (stat.mode & 0o077) !== 0;

/**
 * Makes DATA_DIR (mode 0700) when it is missing; refuses one that is not a folder, or that is
 * open to group or others, or whose database files are (an instance made before this check
 * has a database of mode 0644: the message says the chmod that fixes it).
 */
export function checkDataDir(dbFile: string): void {
  const dir = path.dirname(dbFile);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(dir);
  } catch (e) {
    if (codeOf(e) !== 'ENOENT') throw refuse(`${dir} cannot be read (${codeOf(e)})`);
    try {
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    } catch (made) {
      throw refuse(`${dir} does not exist and could not be made (${codeOf(made)})`);
    }
    return;
  }
  if (!stat.isDirectory()) throw refuse(`${dir} is not a folder (set DATA_DIR to the folder that holds, or is to hold, the database)`);
  if (openToOthers(stat)) throw refuse(`${dir} is open to group or others (mode ${modeOf(stat)}); run \`chmod 700 ${dir}\``);
  const open: string[] = [];
  for (const file of [dbFile, `${dbFile}-wal`, `${dbFile}-shm`]) {
    let fileStat: fs.Stats;
    try {
      fileStat = fs.statSync(file);
    } catch (e) {
      if (codeOf(e) === 'ENOENT') continue;
      throw refuse(`${file} cannot be read (${codeOf(e)})`);
    }
    if (!fileStat.isFile()) throw refuse(`${file} is not a regular file`);
    if (openToOthers(fileStat)) open.push(`${file} (mode ${modeOf(fileStat)})`);
  }
  if (open.length) {
    const files = open.map((f) => f.replace(/ \(mode \d+\)$/, ''));
    throw refuse(`the database is open to group or others: ${open.join(', ')}; run \`chmod 600 ${files.join(' ')}\``);
  }
}

/** The lock file's line: this process's id, and (on Linux) what tells it apart from a later process given the same id. */
function lockLine(pid: number): string | undefined {
  const mark = startMark(pid);
  return mark === undefined ? undefined : `${pid} ${mark}`;
}

/** Linux: the boot and the process's start time (in clock ticks since boot); '' elsewhere (the id alone is checked); undefined when the process is gone. */
function startMark(pid: number): string | undefined {
  if (process.platform !== 'linux') return '';
  try {
    const boot = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22 (starttime); the fields after the command name's closing parenthesis start at field 3.
    const started = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    return `${boot}:${started}`;
  } catch {
    return undefined;
  }
}

/** Whether the server that wrote this lock line still runs: its process exists and (on Linux) started when the line says. */
function holderRuns(line: string): { runs: boolean; pid?: number } {
  const m = /^(\d+) ?(\S*)\s*$/.exec(line);
  if (!m) return { runs: false };
  const pid = Number(m[1]);
  try {
    process.kill(pid, 0);
  } catch (e) {
    if (codeOf(e) === 'ESRCH') return { runs: false, pid };
    // EPERM: a process of another user has this id; the start mark below decides.
  }
  const now = startMark(pid);
  // An unreadable mark (/proc hidden) leaves the id's word: it runs.
  return { runs: now === undefined || m[2] === '' || now === m[2], pid };
}

/**
 * Takes DATA_DIR/awaaz.lock for this process (the file, made with 'wx', holds its id), and
 * gives it back at exit. A lock whose process no longer runs (a server killed with -9, or a
 * machine that lost power: on Linux a process that got the same id since is told apart by its
 * start time) is taken over; one whose process runs stops the start, naming DATA_DIR. Only
 * server processes take it: tests and `sqlite3` may still read the file beside a server.
 */
export function lockDataDir(dir: string): () => void {
  const file = path.join(dir, 'awaaz.lock');
  const mine = `${lockLine(process.pid) ?? `${process.pid} `}\n`;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      fs.writeFileSync(file, mine, { flag: 'wx', mode: 0o600 });
      let held = true;
      const release = () => {
        if (!held) return;
        held = false;
        process.removeListener('exit', release);
        try {
          if (fs.readFileSync(file, 'utf8') === mine) fs.unlinkSync(file);
        } catch {
          // already gone: nothing to give back
        }
      };
      process.on('exit', release);
      return release;
    } catch (e) {
      if (codeOf(e) !== 'EEXIST')
        throw refuse(`${file} (the lock that keeps a second server off this database) could not be made (${codeOf(e)})`);
    }
    let line: string;
    try {
      line = fs.readFileSync(file, 'utf8');
    } catch (e) {
      if (codeOf(e) === 'ENOENT') continue; // given back meanwhile
      throw refuse(`${file} cannot be read (${codeOf(e)})`);
    }
    const holder = holderRuns(line);
    if (holder.runs) {
      throw refuse(
        `another Awaaz server (process ${holder.pid}) runs on ${dir}: stop it first. Two servers on one SQLite database would each count rate limits apart. (If no Awaaz server runs, delete ${file}.)`,
      );
    }
    // Left by a server that no longer runs: removed only if no other start replaced it meanwhile.
    try {
      if (fs.readFileSync(file, 'utf8') === line) fs.unlinkSync(file);
    } catch {
      // removed by another start meanwhile: try again
    }
  }
  throw refuse(`${file} could not be taken (another server is starting on ${dir}?)`);
}

/** SQLite's codes for a database file that cannot be opened, written or read as one. */
const UNUSABLE_FILE = /^SQLITE_(CANTOPEN|READONLY|PERM|NOTADB|IOERR)/;

/** An error opening the SQLite file as a ConfigError naming DATA_DIR and the file; any other error as it is. */
export function databaseOpenError(dbFile: string, e: unknown): unknown {
  const code = (e as { code?: unknown }).code;
  if (typeof code !== 'string' || !UNUSABLE_FILE.test(code)) return e;
  return refuse(
    code === 'SQLITE_NOTADB'
      ? `${dbFile} is not a SQLite database (${code})`
      : `the database ${dbFile} cannot be opened or written (${code}): the folder and its files must belong to the user Awaaz runs as, on a writable disk`,
  );
}
