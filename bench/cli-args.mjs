// The benchmarks' command line: `--name=value` and bare `--flag` (true).
export function cliArgs(argv = process.argv.slice(2)) {
  return new Map(
    argv.map((arg) => {
      const [name, ...value] = arg.replace(/^--/, '').split('=');
      return [name, value.length ? value.join('=') : true];
    }),
  );
}
