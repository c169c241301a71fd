/**
 * The mailer sends staff alerts from the queue (server/services/alerts.ts) through the SMTP
 * server set in the configuration (SMTP_*), every ALERT_CHECK_SECONDS (a minute by default);
 * with none set it does not start.
 * It is apart from every request: a slow or failing mail server delays alerts, never a survivor.
 */
import nodemailer from 'nodemailer';
import MimeNode from 'nodemailer/lib/mime-node';
import type { AppContext } from './app';
import type { SmtpConfig } from './config';
import type { EncryptedAlert } from './services/alert-key';
import { deliverAlerts, type SendMail } from './services/alerts';

/**
 * An encrypted alert as PGP/MIME (RFC 3156 section 4): a multipart/encrypted message whose
 * first part says "Version: 1" and whose second holds the armored OpenPGP message. nodemailer
 * builds no such structure itself, so the tree is made with its MimeNode (which writes the
 * headers as for any other message) and sent as a raw message with its envelope.
 */
export function pgpMimeMessage(from: string, alert: EncryptedAlert): MimeNode {
  const root = new MimeNode('multipart/encrypted; protocol="application/pgp-encrypted"');
  root.setHeader({ From: from, To: alert.to, Subject: alert.subject });
  root
    .createChild('application/pgp-encrypted')
    .setHeader({ 'Content-Description': 'PGP/MIME version identification', 'Content-Transfer-Encoding': '7bit' })
    .setContent('Version: 1\r\n');
  root
    .createChild('application/octet-stream; name="encrypted.asc"')
    .setHeader({
      'Content-Description': 'OpenPGP encrypted message',
      'Content-Disposition': 'inline; filename="encrypted.asc"',
      'Content-Transfer-Encoding': '7bit',
    })
    .setContent(alert.pgpMessage.replace(/\r?\n/g, '\r\n'));
  return root;
}

/** An SMTP sender: STARTTLS required unless the configuration says implicit TLS or (on this machine only) none. */
export function smtpSender(smtp: SmtpConfig): { send: SendMail; close(): void } {
  const transport = nodemailer.createTransport({
    host: smtp.host,
    port: smtp.port,
    secure: smtp.tls === 'implicit',
    requireTLS: smtp.tls === 'starttls',
    ignoreTLS: smtp.tls === 'none',
    auth: smtp.auth ? { user: smtp.auth.user, pass: smtp.auth.password } : undefined,
    tls: { ...(smtp.ca ? { ca: smtp.ca } : {}), minVersion: 'TLSv1.2' },
    connectionTimeout: 20_000,
    greetingTimeout: 20_000,
    socketTimeout: 30_000,
  });
  return {
    async send(message) {
      if ('pgpMessage' in message) {
        const mime = pgpMimeMessage(smtp.from, message);
        await transport.sendMail({ envelope: mime.getEnvelope(), raw: await mime.build() });
      } else {
        await transport.sendMail({ from: smtp.from, to: message.to, subject: message.subject, text: message.text });
      }
    },
    close: () => transport.close(),
  };
}

/** Sends what is due now and then every ALERT_CHECK_SECONDS; returns the function that stops it (a no-op when alerts are off). */
export function startMailer(ctx: AppContext): () => void {
  if (!ctx.config.smtp) return () => {};
  const sender = smtpSender(ctx.config.smtp);
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const run = async () => {
    try {
      await deliverAlerts(ctx, sender.send);
    } catch {
      ctx.log('mailer: a round failed; the next one tries again');
    }
    if (stopped) return;
    timer = setTimeout(() => void run(), ctx.config.alerts.checkEveryMs);
    timer.unref();
  };
  void run();
  return () => {
    stopped = true;
    clearTimeout(timer);
    sender.close();
  };
}
