// Real receivers of the alerts: an HTTP server that takes the webhook's POSTs and a
// real SMTP server (smtp-server) that takes the e-mail with authentication.
import { createServer, type Server } from 'node:http';
import { SMTPServer } from 'smtp-server';

export const SMTP_PASSWORD = 'Sm7p-pa55word';
export const HOOK_SECRET = 'h00k-s3cret';

export interface Hook {
  url: string;
  /** Each POST: its basic auth, its JSON body, and when it arrived (ms). */
  posts: { auth: string | undefined; body: Record<string, unknown>; receivedAt: number }[];
  close(): Promise<void>;
}

/** A real HTTP server that records every POST (its basic auth and JSON body). */
export async function webhookReceiver(): Promise<Hook> {
  const posts: Hook['posts'] = [];
  const server: Server = createServer((req, res) => {
    let data = '';
    req.on('data', (d: Buffer) => (data += d.toString()));
    req.on('end', () => {
      posts.push({ auth: req.headers.authorization, body: JSON.parse(data) as Record<string, unknown>, receivedAt: Date.now() });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://hook:${HOOK_SECRET}@127.0.0.1:${port}/hooks/T0KEN`,
    posts,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

export interface Mail {
  port: number;
  messages: { from: string; to: string[]; user: string; text: string }[];
  close(): Promise<void>;
}

/** A real SMTP server that accepts user "backup" with SMTP_PASSWORD only, and records every message. */
export async function smtpReceiver(): Promise<Mail> {
  const messages: Mail['messages'] = [];
  const server = new SMTPServer({
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    onAuth(auth, _session, cb) {
      if (auth.username === 'backup' && auth.password === SMTP_PASSWORD) cb(null, { user: auth.username });
      else cb(new Error('Invalid username or password'));
    },
    onData(stream, session, cb) {
      let text = '';
      stream.on('data', (d: Buffer) => (text += d.toString()));
      stream.on('end', () => {
        const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
        messages.push({ from, to: session.envelope.rcptTo.map((r) => r.address), user: String(session.user), text });
        cb();
      });
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.server.address() as { port: number }).port;
  return { port, messages, close: () => new Promise((r) => server.close(() => r())) };
}
