// When a failed delivery is tried again: exponential backoff with jitter, capped, over about a day by default.

export interface RetrySchedule {
  /** Delay after the first failure. */
  readonly baseMs: number;
  /** No delay grows past this. */
  readonly maxMs: number;
  /** Failed attempts of one change after which the endpoint is disabled. */
  readonly maxAttempts: number;
}

/** 10 s doubling up to 2 h, 20 attempts: about 21 hours from the first failure to the last try. */
export const defaultRetrySchedule: RetrySchedule = { baseMs: 10_000, maxMs: 7_200_000, maxAttempts: 20 };

/**
 * The wait after the `failures`-th failed attempt (1 for the first), drawn within ±20 % of the
 * exponential delay so endpoints failing together do not retry together. `random` is in [0, 1).
 */
export function retryDelayMs(failures: number, schedule: RetrySchedule, random: number): number {
  const exponential = Math.min(schedule.maxMs, schedule.baseMs * 2 ** Math.min(failures - 1, 40));
  return Math.round(exponential * (0.8 + 0.4 * random));
}

/** The time from the first failure to the last attempt, without jitter (for the README and the settings check). */
export function totalRetrySpanMs(schedule: RetrySchedule): number {
  let total = 0;
  for (let failures = 1; failures < schedule.maxAttempts; failures++)
    total += Math.min(schedule.maxMs, schedule.baseMs * 2 ** Math.min(failures - 1, 40));
  return total;
}
