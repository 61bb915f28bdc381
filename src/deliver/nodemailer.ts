// nodemailer adds some 20 MB to the process (its code and what it loads: tls, the MIME builder): it is
// loaded with the first delivery, so an idle relay, and one that only receives while its smarthost is
// being set up, does not carry it.
type Nodemailer = typeof import('nodemailer');

let loading: Promise<Nodemailer> | null = null;

export async function loadNodemailer(): Promise<Nodemailer['default']> {
  loading ??= import('nodemailer');
  return (await loading).default;
}
