import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { freePort } from './free-port.ts';

/** A mail the server accepted: parsed, with the envelope's recipients. */
export interface CapturedMail {
  messageId: string | undefined;
  from: string | undefined;
  to: string[];
  subject: string | undefined;
  text: string | undefined;
  parsed: ParsedMail;
}

/**
 * A real SMTP server (smtp-server, no TLS, any login accepted) on 127.0.0.1 that keeps every
 * mail it accepts, parsed by mailparser. `stop()` closes it, refusing connections like an
 * outage would, and `start()` opens it again on the same port, keeping what it received.
 */
export class SmtpCapture {
  readonly port: number;
  readonly mails: CapturedMail[] = [];
  #server: SMTPServer | undefined;

  private constructor(port: number) {
    this.port = port;
  }

  static async start(port?: number): Promise<SmtpCapture> {
    const capture = new SmtpCapture(port ?? (await freePort()));
    await capture.start();
    return capture;
  }

  /** `smtp://127.0.0.1:<port>`, what `TELLY_SMTP_URL` takes. */
  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.#server !== undefined;
  }

  async start(): Promise<void> {
    if (this.#server) return;
    const server = new SMTPServer({
      secure: false,
      disabledCommands: ['STARTTLS'],
      authOptional: true,
      logger: false,
      onData: (stream, session, callback) => {
        simpleParser(stream)
          .then((parsed) => {
            this.mails.push({
              messageId: parsed.messageId,
              from: parsed.from?.text,
              to: session.envelope.rcptTo.map((r) => r.address),
              subject: parsed.subject,
              text: parsed.text,
              parsed,
            });
            callback();
          })
          .catch((err: Error) => callback(err));
      },
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.#server = server;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
