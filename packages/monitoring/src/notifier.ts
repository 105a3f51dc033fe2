import { createTransport, type Transporter } from 'nodemailer';
import type { NotifyConfig } from '@influx-backup/config';
import type { Logger } from '@influx-backup/core';
import { Backoff, withRetry } from '@influx-backup/influx';

/** What one alert sends: the webhook's JSON body, and where the e-mail goes. */
export interface Notification {
  readonly alert: string;
  readonly state: 'firing' | 'resolved';
  readonly metric: string;
  readonly value: number;
  readonly threshold: number;
  /** A source of databases.sources: the one whose run gave the value. */
  readonly source?: string;
  /** The run it is about (a process's own alert names none): the one that crossed the rule, or that ended below it. */
  readonly run?: string;
  /** The run's kind (copy, restore, ...; `process` for a process's own metric). */
  readonly kind: string;
  /** When it started firing, and when this notification was decided (ISO). */
  readonly since: string;
  readonly at: string;
  /** Sent again because it stays firing (monitoring.alerts.repeat_interval). */
  readonly repeat: boolean;
  /** One readable line (Slack-compatible receivers show `text`). */
  readonly text: string;
}

export interface Delivery {
  readonly webhook: boolean;
  /** Recipients of an e-mail; none: no e-mail. */
  readonly emailTo: readonly string[];
}

export interface NotifierOptions {
  /** Tries of one delivery, the first included; waits double from `baseMs`. */
  attempts?: number;
  baseMs?: number;
  /** Notifications waiting to be sent; past it the oldest is dropped (and logged). */
  capacity?: number;
  timeoutMs?: number;
}

/** A failed delivery is retried: every failure here (refused, timeout, 5xx, a 4xx from a proxy) may pass later. */
class DeliveryError extends Error {
  readonly retriable = true;
}

/**
 * Sends alerts by webhook (JSON POST) and e-mail (SMTP through nodemailer), off
 * the copy path: `send` only queues, one loop delivers in order, each delivery
 * retried a few times with a growing wait. A notification that cannot be
 * delivered is logged with the reason and dropped; the backup never waits for it.
 */
export class Notifier {
  private readonly queue: { n: Notification; to: Delivery }[] = [];
  private draining: Promise<void> | undefined;
  private mailer: Transporter | undefined;
  private readonly backoff: Backoff;
  private readonly capacity: number;
  private readonly timeoutMs: number;

  constructor(
    private readonly notify: NotifyConfig,
    private readonly logger: Logger,
    { attempts = 4, baseMs = 1_000, capacity = 100, timeoutMs = 10_000 }: NotifierOptions = {},
  ) {
    if (!(capacity >= 1)) throw new RangeError(`capacity must be >= 1, got ${capacity}`);
    this.backoff = new Backoff({ attempts, baseMs, factor: 2, maxMs: 30_000 });
    this.capacity = capacity;
    this.timeoutMs = timeoutMs;
  }

  /** Where a rule's actions send, given what monitoring.notify configures. */
  delivery(actions: readonly string[], recipients: readonly string[] | undefined): Delivery {
    const all = actions.includes('notify');
    const webhook = this.notify.webhookUrl !== undefined && (all || actions.includes('notification'));
    const email = this.notify.email.host !== undefined && (all || actions.includes('email'));
    return { webhook, emailTo: email ? (recipients ?? this.notify.email.to ?? []) : [] };
  }

  send(n: Notification, to: Delivery): void {
    if (!to.webhook && to.emailTo.length === 0) return;
    if (this.queue.length >= this.capacity) {
      const dropped = this.queue.shift();
      this.logger.warn(`alert notifications are backing up; dropped ${dropped?.n.alert ?? '?'} ${dropped?.n.state ?? ''}`);
    }
    this.queue.push({ n, to });
    this.draining ??= this.drain().finally(() => (this.draining = undefined));
  }

  /** Waits for what is queued to be delivered (or given up), at most `timeoutMs`; then closes SMTP. */
  async flush(timeoutMs = 30_000): Promise<void> {
    if (this.draining) await Promise.race([this.draining, new Promise((r) => setTimeout(r, timeoutMs).unref())]);
    this.mailer?.close();
    this.mailer = undefined;
  }

  private async drain(): Promise<void> {
    for (let next = this.queue.shift(); next; next = this.queue.shift()) {
      const { n, to } = next;
      if (to.webhook) await this.deliver(n, 'webhook (monitoring.notify.webhook_url)', () => this.post(n));
      if (to.emailTo.length > 0) {
        const where = `e-mail to ${to.emailTo.join(', ')} through monitoring.notify.email.host ${this.notify.email.host}:${this.notify.email.port}`;
        await this.deliver(n, where, () => this.mail(n, to.emailTo));
      }
    }
  }

  private async deliver(n: Notification, where: string, fn: () => Promise<void>): Promise<void> {
    try {
      await withRetry(this.backoff, fn, (err, attempt, delay) =>
        this.logger.warn(
          `alert ${n.alert} ${n.state}: ${where} failed (try ${attempt}): ${(err as Error).message}; again in ${delay / 1000} s`,
        ),
      );
      this.logger.debug(`alert ${n.alert} ${n.state}: sent by ${where}`);
    } catch (err) {
      this.logger.error(
        `alert ${n.alert} ${n.state}: could not be sent by ${where} after ${this.backoff.attempts} tries: ${(err as Error).message}`,
      );
    }
  }

  private async post(n: Notification): Promise<void> {
    // fetch refuses a URL with user:password@; they go as basic auth instead.
    const url = new URL(this.notify.webhookUrl!);
    const headers: Record<string, string> = { 'Content-Type': 'application/json' };
    if (url.username || url.password) {
      headers.Authorization = `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`;
      url.username = url.password = '';
    }
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers,
        body: JSON.stringify(n),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      const cause = (err as { cause?: { message?: string } }).cause?.message;
      throw new DeliveryError(cause ? `${(err as Error).message}: ${cause}` : (err as Error).message);
    }
    await res.body?.cancel();
    if (!res.ok) throw new DeliveryError(`HTTP ${res.status} ${res.statusText}`);
  }

  private async mail(n: Notification, to: readonly string[]): Promise<void> {
    const e = this.notify.email;
    this.mailer ??= createTransport({
      host: e.host,
      port: e.port,
      secure: e.secure,
      ...(e.username ? { auth: { user: e.username, pass: e.password ?? '' } } : {}),
      connectionTimeout: this.timeoutMs,
      greetingTimeout: this.timeoutMs,
      socketTimeout: this.timeoutMs,
    });
    try {
      await this.mailer.sendMail({ from: e.from, to: [...to], subject: n.text, text: `${n.text}\n\n${JSON.stringify(n, null, 2)}\n` });
    } catch (err) {
      throw new DeliveryError((err as Error).message);
    }
  }
}
