/**
 * Holds requests (or handlers) until the test opens it: a route that awaits
 * `pass()` stays in flight for as long as the test needs, whatever the
 * machine's speed.
 */
export class RequestGate {
  private waiting: Array<() => void> = [];
  /** How many have reached the gate since the last reset(). */
  entered = 0;

  pass(): Promise<void> {
    this.entered += 1;
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Lets every one waiting through. */
  open(): void {
    for (const resolve of this.waiting.splice(0)) resolve();
  }

  reset(): void {
    this.open();
    this.entered = 0;
  }
}
