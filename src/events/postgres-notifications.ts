// Commit signals through PostgreSQL: LISTEN on the store's channel, which every write NOTIFYs at commit.
import pg from 'pg';
import { keysChangedPayload } from '../store/postgres/postgres-store.ts';
import type { CommitSignal, CommitSignals } from './commit-signals.ts';

const reconnectDelayMs = { first: 100, max: 2_000 };
/** An idle LISTEN connection whose link died silently is noticed by this query (it fails or times out). */
const heartbeatIntervalMs = 10_000;

/**
 * One client of its own (a pooled one could be handed back, and LISTEN with it). Notifications are
 * lost while disconnected, so after each (re)connection it says `unknown` and the feed re-reads the log.
 */
export class PostgresNotifications implements CommitSignals {
  private client: pg.Client | null = null;
  private connected = false;
  private closed = false;
  private delayMs = reconnectDelayMs.first;
  private retry: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(
    private readonly connection: pg.ClientConfig,
    private readonly channel: string,
    private readonly onError: (error: unknown) => void,
  ) {}

  start(listener: (signal: CommitSignal) => void): void {
    void this.connect(listener);
  }

  private async connect(listener: (signal: CommitSignal) => void): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client(this.connection);
    this.client = client;
    let lost = false;
    const reconnect = (error?: unknown) => {
      if (lost) return;
      lost = true;
      this.connected = false;
      if (error) this.onError(error);
      clearInterval(this.heartbeat);
      void client.end().catch(() => undefined);
      if (this.closed) return;
      this.retry = setTimeout(() => void this.connect(listener), this.delayMs);
      this.retry.unref();
      this.delayMs = Math.min(this.delayMs * 2, reconnectDelayMs.max);
    };
    client.on('error', reconnect);
    client.on('end', () => reconnect());
    client.on('notification', (message) => {
      if (message.channel === this.channel)
        listener(message.payload === keysChangedPayload ? 'keys' : 'revisions');
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${pg.escapeIdentifier(this.channel)}`);
    } catch (error) {
      reconnect(error);
      return;
    }
    if (lost) return;
    this.connected = true;
    this.delayMs = reconnectDelayMs.first;
    this.heartbeat = setInterval(() => void client.query('SELECT 1').catch(reconnect), heartbeatIntervalMs);
    this.heartbeat.unref();
    listener('unknown');
  }

  async publish(): Promise<void> {
    // The store's transactions NOTIFY at commit themselves.
  }

  isConnected(): boolean {
    return this.connected;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    clearInterval(this.heartbeat);
    this.connected = false;
    await this.client?.end().catch(() => undefined);
  }
}
