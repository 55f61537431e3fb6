import nodemailer from "nodemailer";

export interface Mail {
  to: string;
  subject: string;
  text: string;
}

export type SendMail = (mail: Mail) => Promise<void>;

/**
 * Mail through the operator's SMTP server (SMTP_URL), or nowhere: without one, messages that would
 * carry a link are dropped and the operator is told once, without the address or the link.
 */
export function createMailer(smtpUrl: string | undefined, from: string, log: { warn(obj: object, msg: string): void }): SendMail {
  if (!smtpUrl) {
    let warned = false;
    return async () => {
      if (!warned) log.warn({}, "a message was not sent: set SMTP_URL to send verification and password reset mail");
      warned = true;
    };
  }
  const transport = nodemailer.createTransport(smtpUrl);
  return async ({ to, subject, text }) => {
    await transport.sendMail({ from, to, subject, text });
  };
}
