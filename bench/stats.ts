// Figures of the bench scripts' rounds: their mean, their median, and ratios between two loads
// measured in alternated rounds, robust to a busy moment of a shared machine.

export const mean = (values: readonly number[]) =>
  values.reduce((sum, value) => sum + value, 0) / values.length;

export const median = (values: readonly number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/**
 * The median of the rounds' ratios of two loads measured in the same alternated rounds: each round
 * measures both within seconds, so a busy moment weighs on both sides of its ratio, and one
 * disturbed round does not move the median.
 */
export function medianRatio(values: readonly number[], bases: readonly number[]): number {
  return median(values.map((value, round) => value / bases[round]!));
}
