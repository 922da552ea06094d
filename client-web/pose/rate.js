// Adaptive estimation rate, pure. Target: 10 estimates/s (one every 100 ms). An estimate runs on the
// page's thread when the library cannot run in a worker, so it must never take more than `maxDuty` of the
// time: when an estimate takes longer than its budget (maxDuty x 100 ms = 40 ms), the interval grows so
// that duration / interval stays at maxDuty (e.g. 80 ms estimates -> one every 200 ms = 5/s), down to
// `minHz`. The duration is smoothed (EWMA) so one slow frame does not halve the rate.
export const DEFAULT_RATE = Object.freeze({ targetHz: 10, minHz: 2, maxDuty: 0.4, smoothing: 0.3 });

/** The duty cap when the model runs in a Worker: the page's thread stays free, so the estimator may use more of a
 * core (70 %: 80 ms estimates still give 8/s), leaving the rest to the encoders. */
export const WORKER_MAX_DUTY = 0.7;

export class AdaptiveRate {
  constructor(options = {}) {
    this.options = { ...DEFAULT_RATE, ...options };
    this.avgMs = null;
  }

  /** Records how long an estimate took; returns the interval (ms, start to start) until the next one. */
  record(durationMs) {
    const { smoothing } = this.options;
    this.avgMs = this.avgMs == null ? durationMs : this.avgMs + smoothing * (durationMs - this.avgMs);
    return this.intervalMs();
  }

  intervalMs() {
    const { targetHz, minHz, maxDuty } = this.options;
    const target = 1000 / targetHz;
    if (this.avgMs == null) return target;
    return Math.min(1000 / minHz, Math.max(target, this.avgMs / maxDuty));
  }

  get hz() {
    return 1000 / this.intervalMs();
  }
}
