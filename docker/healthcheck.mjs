// The image's HEALTHCHECK: GET /livez on the service's own port, exit 0 when
// it answers 200, 1 otherwise (the runtime image has no curl or wget).
// Liveness checks the process only, never a dependency.
const port = process.env.PORT || '3000';
try {
  const response = await fetch(`http://127.0.0.1:${port}/livez`, {
    signal: AbortSignal.timeout(2_000),
  });
  if (response.status !== 200) {
    console.error(`/livez answered ${response.status}`);
    process.exit(1);
  }
} catch (error) {
  console.error(`/livez did not answer: ${error instanceof Error ? error.message : error}`);
  process.exit(1);
}
