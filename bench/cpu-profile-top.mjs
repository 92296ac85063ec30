// Top self-time functions of V8 .cpuprofile files, e.g. the measured windows
// written by `node bench/context-overhead.mjs --cpu-prof=DIR`. A reading aid, not a test.
//
//   node bench/cpu-profile-top.mjs FILE.cpuprofile... [--top=25] [--filter=TEXT]
//   node bench/cpu-profile-top.mjs OURS.cpuprofile --compare=BARE.cpuprofile [--top=25] [--filter=TEXT]
//
// Self time is summed per function (over its call sites). When the profile
// carries benchRequests and benchCpuUs (context-overhead writes them), times
// are also given in µs per request: the function's share of the profile's busy
// samples times the CPU µs per request measured in the same window.
// --filter keeps the functions whose script URL or name contains TEXT.
// --compare lists the functions whose µs/request grew most from BARE to OURS.
import { readFileSync } from 'node:fs';

const files = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
const option = (name) =>
  process.argv
    .find((arg) => arg.startsWith(`--${name}=`))
    ?.split('=')
    .slice(1)
    .join('=');
const top = Number(option('top') ?? 25);
const filter = option('filter');
const compare = option('compare');
if (files.length === 0) {
  console.error(
    'usage: cpu-profile-top.mjs FILE.cpuprofile... [--top=25] [--filter=TEXT] [--compare=BASE.cpuprofile]',
  );
  process.exit(2);
}

const IDLE = new Set(['(idle)', '(program)']);

function read(file) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  // The time of a sample is the delta to the next one.
  const selfUs = new Map();
  profile.samples.forEach((id, index) => {
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[index + 1] ?? 0));
  });
  const functions = new Map();
  let totalUs = 0;
  let idleUs = 0;
  for (const [id, us] of selfUs) {
    const { callFrame } = byId.get(id);
    const name = callFrame.functionName || '(anonymous)';
    totalUs += us;
    if (name === '(idle)') idleUs += us;
    const where = callFrame.url
      ? `${callFrame.url
          .replace(/^file:\/\//, '')
          .replace(/^.*node_modules\//, '')
          .replace(/^.*\/libs\/production-readiness\/dist\//, 'lib:')}:${callFrame.lineNumber + 1}`
      : '';
    const key = `${name} ${where}`;
    const entry = functions.get(key) ?? { key, name, where, url: callFrame.url, us: 0 };
    entry.us += us;
    functions.set(key, entry);
  }
  const busyUs = totalUs - idleUs;
  // µs of CPU per request per µs of busy sample, when the bench recorded both.
  const scale =
    profile.benchRequests && profile.benchCpuUs
      ? profile.benchCpuUs / profile.benchRequests / busyUs
      : undefined;
  for (const entry of functions.values()) {
    entry.share = entry.us / busyUs;
    entry.perRequestUs = scale === undefined ? undefined : entry.us * scale;
  }
  return {
    file,
    totalUs,
    busyUs,
    functions,
    requests: profile.benchRequests,
    cpuUsPerRequest: scale === undefined ? undefined : profile.benchCpuUs / profile.benchRequests,
  };
}

const matches = (entry) =>
  !IDLE.has(entry.name) && (!filter || entry.url.includes(filter) || entry.name.includes(filter));
const us = (value) => (value === undefined ? '' : `${value.toFixed(2).padStart(7)} µs/req`);

function header(profile) {
  console.log(`\n${profile.file}`);
  console.log(
    `  ${(profile.totalUs / 1000).toFixed(0)} ms sampled, ${((profile.busyUs / profile.totalUs) * 100).toFixed(0)}% busy` +
      (profile.requests
        ? `; ${profile.requests} requests, ${profile.cpuUsPerRequest.toFixed(1)} CPU µs/request`
        : ''),
  );
}

if (compare) {
  const base = read(compare);
  for (const file of files) {
    const ours = read(file);
    header(base);
    header(ours);
    const keys = new Set([...base.functions.keys(), ...ours.functions.keys()]);
    const rows = [...keys]
      .map((key) => {
        const a = base.functions.get(key);
        const b = ours.functions.get(key);
        const entry = b ?? a;
        const valueOf = (x) => (x ? (x.perRequestUs ?? x.share * 100) : 0);
        return { ...entry, base: valueOf(a), ours: valueOf(b), delta: valueOf(b) - valueOf(a) };
      })
      .filter(matches)
      .sort((x, y) => y.delta - x.delta);
    const unit = base.cpuUsPerRequest && ours.cpuUsPerRequest ? 'µs/req' : '% busy';
    const total = rows.reduce((sum, row) => sum + row.delta, 0);
    console.log(
      `  self time that grew most, ${unit} (bare → ours, Δ)${filter ? `, matching "${filter}"` : ''}; Σ Δ of the matching functions ${total.toFixed(2)}`,
    );
    for (const row of rows.slice(0, top)) {
      console.log(
        `  ${row.base.toFixed(2).padStart(7)} → ${row.ours.toFixed(2).padStart(7)}  ${(row.delta >= 0 ? '+' : '') + row.delta.toFixed(2)}  ${row.name}  ${row.where}`,
      );
    }
  }
} else {
  for (const file of files) {
    const profile = read(file);
    header(profile);
    const shown = [...profile.functions.values()].filter(matches).sort((a, b) => b.us - a.us);
    if (filter) {
      const matchedUs = shown.reduce((sum, entry) => sum + entry.us, 0);
      const perRequest = shown.reduce((sum, entry) => sum + (entry.perRequestUs ?? 0), 0);
      console.log(
        `  matching "${filter}": ${(matchedUs / 1000).toFixed(1)} ms self, ${((matchedUs / profile.busyUs) * 100).toFixed(2)}% of busy` +
          (profile.requests ? `, ${perRequest.toFixed(2)} µs/request` : ''),
      );
    }
    for (const entry of shown.slice(0, top)) {
      console.log(
        `  ${(entry.us / 1000).toFixed(1).padStart(8)} ms ${((entry.share * 100).toFixed(2) + '%').padStart(7)} ${us(entry.perRequestUs)}  ${entry.name}  ${entry.where}`,
      );
    }
  }
}
