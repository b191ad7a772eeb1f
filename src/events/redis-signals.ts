// Commit signals through Redis pub/sub: each process publishes after it commits, every replica subscribes.
import { Redis } from 'ioredis';
import type { CommitSignal, CommitSignals } from './commit-signals.ts';

/** The signals and the clients they travel on; ready only while both clients are. */
export class RedisSignals implements CommitSignals {
  private readonly publisher: Redis;
  private readonly subscriber: Redis;

  /** `channel` names the database the replicas share (as the PostgreSQL channel does). */
  constructor(
    redisUrl: string,
    private readonly channel: string,
    private readonly onError: (error: unknown) => void,
  ) {
    // A publish waits for at most one reconnection, then fails: the other replicas' catch-up read
    // makes up for it, and /ready reports the outage meanwhile.
    const options = { maxRetriesPerRequest: 1, retryStrategy: (attempt: number) => Math.min(100 * 2 ** attempt, 2_000) };
    this.publisher = new Redis(redisUrl, options);
    this.subscriber = new Redis(redisUrl, options);
    for (const client of [this.publisher, this.subscriber]) client.on('error', (error) => this.onError(error));
  }

  start(listener: (signal: CommitSignal) => void): void {
    this.subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.channel) listener(message === 'keys' ? 'keys' : message === 'revisions' ? 'revisions' : 'unknown');
    });
    // ioredis subscribes again after each reconnection; messages sent meanwhile are lost, so read the log.
    this.subscriber.on('ready', () => listener('unknown'));
    this.subscriber.subscribe(this.channel).catch(this.onError);
  }

  async publish(signal: CommitSignal): Promise<void> {
    await this.publisher.publish(this.channel, signal);
  }

  isConnected(): boolean {
    return this.publisher.status === 'ready' && this.subscriber.status === 'ready';
  }

  async close(): Promise<void> {
    this.publisher.disconnect();
    this.subscriber.disconnect();
  }
}
