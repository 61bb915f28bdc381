// When to try a recipient again: the configured schedule (delivery.retrySchedule), its last step
// repeating, with ±10% jitter so that a backlog deferred together does not return as one burst.

export function retryDelay(schedule: number[], attempt: number, random: () => number = Math.random): number {
  const step = schedule[Math.min(Math.max(attempt, 1), schedule.length) - 1] ?? 60_000;
  return Math.round(step * (0.9 + 0.2 * random()));
}
