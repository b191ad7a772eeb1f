// Commit signals through Redis pub/sub: each process publishes after it commits, every replica subscribes.
import { Redis } from 'ioredis';
import type { CommitSignal, CommitSignals } from './commit-signals.ts';

/** The signals and the clients they travel on; connected only while both are and the channel is subscribed. */
export class RedisSignals implements CommitSignals {
  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  private subscribed = false;

  /** `channel` names the database the replicas share (as the PostgreSQL channel does). */
  constructor(
    redisUrl: string,
    private readonly channel: string,
    private readonly onError: (error: unknown) => void,
  ) {
    // A publish waits for at most one reconnection, then fails: the other replicas' catch-up read
    // makes up for it, and /ready reports the outage meanwhile.
    const options = {
      maxRetriesPerRequest: 1,
      retryStrategy: (attempt: number) => Math.min(100 * 2 ** attempt, 2_000),
    };
    this.publisher = new Redis(redisUrl, options);
    this.subscriber = new Redis(redisUrl, options);
    for (const client of [this.publisher, this.subscriber])
      client.on('error', (error) => this.onError(error));
  }

  start(listener: (signal: CommitSignal) => void): void {
    this.subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.channel)
        listener(message === 'keys' ? 'keys' : message === 'revisions' ? 'revisions' : 'unknown');
    });
    // Subscribed afresh at every (re)connection, the first included: a SUBSCRIBE queued while Redis
    // was away may have failed for good. Messages sent meanwhile are lost, so then read the log.
    this.subscriber.on('ready', () => {
      this.subscriber.subscribe(this.channel).then(
        () => {
          this.subscribed = true;
          listener('unknown');
        },
        (error: unknown) => this.onError(error),
      );
    });
    this.subscriber.on('close', () => (this.subscribed = false));
  }

  async publish(signal: CommitSignal): Promise<void> {
    await this.publisher.publish(this.channel, signal);
  }

  isConnected(): boolean {
    return this.publisher.status === 'ready' && this.subscriber.status === 'ready' && this.subscribed;
  }

  async close(): Promise<void> {
    this.publisher.disconnect();
    this.subscriber.disconnect();
  }
}
