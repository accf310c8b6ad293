// DuckDB side of the query benchmark (bench/query/run.sh, docs/BENCHMARKS.md).
//
// DuckDB runs in-process here (the @duckdb/node-api package: DuckDB's C library inside Node),
// so its figures have no HTTP, no serialization into a wire format and no second process,
// unlike trackhouse's and ClickHouse's. It loads the benchmark's JSONEachRow file into a
// DuckDB database file twice -- once in file (arrival) order, once sorted by (entityType,
// entityId, createdAt), the table's key in trackhouse and ClickHouse, which is DuckDB's best
// row order for these queries -- and for each database runs queries_duckdb.sql: the answer of
// each query is written to ANSWERS/<variant>/Qn.tsv, then --warmup untimed and --runs timed
// runs give the median. `threads` is set to --threads (2, as max_threads=2 on the servers).
//
// usage: node run.mjs --data FILE --dir DIR --queries FILE [--threads 2] [--warmup 3]
//                     [--runs 21] [--answers DIR] [--results FILE] [--variants arrival,sorted]
// Prints labelled lines; appends JSON lines to --results.

import { DuckDBInstance } from '@duckdb/node-api';
import { appendFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

function parseArgs(argv) {
  const args = { threads: 2, warmup: 3, runs: 21, variants: 'arrival,sorted' };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '');
    if (argv[i + 1] === undefined) throw new Error(`${argv[i]} needs a value`);
    args[key] = argv[i + 1];
  }
  for (const k of ['data', 'dir', 'queries']) {
    if (!args[k]) throw new Error(`--${k} is required`);
  }
  args.threads = Number(args.threads);
  args.warmup = Number(args.warmup);
  args.runs = Number(args.runs);
  return args;
}

// The same file format as queries_clickhouse.sql: "-- Qn: title" starts a query.
function parseQueries(text) {
  const queries = [];
  for (const line of text.split('\n')) {
    const m = line.match(/^-- (Q\d+): (.*)$/);
    if (m) {
      queries.push({ name: m[1], title: m[2], sql: '' });
    } else if (!line.startsWith('--') && line.trim() !== '' && queries.length > 0) {
      queries[queries.length - 1].sql += line + '\n';
    }
  }
  for (const q of queries) q.sql = q.sql.trim().replace(/;$/, '');
  if (queries.length === 0) throw new Error('no "-- Qn: title" queries found');
  return queries;
}

function ms(t0) {
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

function median(values) {
  const v = [...values].sort((a, b) => a - b);
  const n = v.length;
  return n % 2 === 1 ? v[(n - 1) / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// TabSeparated text of a result, as ClickHouse prints it (dates as YYYY-MM-DD, integers plain).
function toTsv(reader) {
  return reader
    .getRows()
    .map((row) => row.map((v) => String(v)).join('\t') + '\n')
    .join('');
}

const COLUMNS =
  "{entityType: 'VARCHAR', entityId: 'INTEGER', userId: 'INTEGER', metricType: 'VARCHAR', " +
  "metricValue: 'INTEGER', createdAt: 'TIMESTAMP'}";
const DDL =
  'CREATE TABLE entityMetricEvents (entityType VARCHAR, entityId INTEGER, userId INTEGER, ' +
  'metricType VARCHAR, metricValue INTEGER, createdAt TIMESTAMP)';

async function open(path, threads) {
  const instance = await DuckDBInstance.create(path, { threads: String(threads) });
  return { instance, conn: await instance.connect() };
}

async function load(args, variant, path) {
  const { instance, conn } = await open(path, args.threads);
  const order = variant === 'sorted' ? ' ORDER BY entityType, entityId, createdAt' : '';
  const file = args.data.replaceAll("'", "''");
  const t0 = process.hrtime.bigint();
  await conn.run(DDL);
  await conn.run(
    `INSERT INTO entityMetricEvents SELECT * FROM read_json('${file}', ` +
      `format = 'newline_delimited', columns = ${COLUMNS})${order}`,
  );
  await conn.run('CHECKPOINT');
  const seconds = ms(t0) / 1e3;
  const count = (await conn.runAndReadAll('SELECT count(*) FROM entityMetricEvents')).getRows()[0][0];
  conn.closeSync();
  instance.closeSync();
  return { rows: Number(count), seconds };
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const queries = parseQueries(readFileSync(args.queries, 'utf8'));
  const result = (obj) => {
    if (args.results) appendFileSync(args.results, JSON.stringify(obj) + '\n');
  };
  const version = await (async () => {
    const { instance, conn } = await open(':memory:', 1);
    const v = (await conn.runAndReadAll('SELECT version()')).getRows()[0][0];
    conn.closeSync();
    instance.closeSync();
    return v;
  })();
  mkdirSync(args.dir, { recursive: true });
  for (const variant of args.variants.split(',')) {
    const path = join(args.dir, `${variant}.duckdb`);
    rmSync(path, { force: true });
    rmSync(path + '.wal', { force: true });
    const loaded = await load(args, variant, path);
    console.log(
      `duckdb ${version} ${variant}: loaded ${loaded.rows} rows in ${loaded.seconds.toFixed(2)} s ` +
        `(read_json + INSERT${variant === 'sorted' ? ' ... ORDER BY' : ''} + CHECKPOINT, in-process)`,
    );
    result({ bench: 'duckdb_load', server: `duckdb-${variant}`, version, ...loaded });

    // A fresh instance on the loaded file: the first runs read it, the warm-up runs cache it.
    const { instance, conn } = await open(path, args.threads);
    for (const q of queries) {
      const answer = toTsv(await conn.runAndReadAll(q.sql));
      if (args.answers) {
        mkdirSync(join(args.answers, `duckdb-${variant}`), { recursive: true });
        writeFileSync(join(args.answers, `duckdb-${variant}`, `${q.name}.tsv`), answer);
      }
      const times = [];
      for (let r = 0; r < args.warmup + args.runs; r++) {
        const t0 = process.hrtime.bigint();
        await conn.runAndReadAll(q.sql);
        const t = ms(t0);
        if (r >= args.warmup) times.push(t);
      }
      const m = median(times);
      console.log(
        `${q.name} duckdb-${variant} median ${m.toFixed(2).padStart(8)} ms (min ` +
          `${Math.min(...times).toFixed(2)}, max ${Math.max(...times).toFixed(2)}; ${args.runs} runs ` +
          `after ${args.warmup} warm-up; in-process)`,
      );
      result({
        bench: 'query',
        server: `duckdb-${variant}`,
        query: q.name,
        title: q.title,
        status: 'ok',
        median_ms: m,
        min_ms: Math.min(...times),
        max_ms: Math.max(...times),
        runs: args.runs,
        warmup: args.warmup,
        answer_rows: answer === '' ? 0 : answer.split('\n').length - 1,
        in_process: true,
      });
    }
    conn.closeSync();
    instance.closeSync();
  }
}

main().catch((e) => {
  console.error(`duckdb/run.mjs: ${e.message}`);
  process.exit(1);
});
