// What the settings and the API accept as an e-mail address: one @, something on each side, no space or
// angle bracket. Deliberately loose (RFC 5321 allows far more); the smarthost has the final word.
export const MAILBOX = /^[^\s<>@]+@[^\s<>@]+$/;

/** A mailbox, or a whole domain written as "@host.local" (sender rewriting rules). */
export const MAILBOX_OR_DOMAIN = /^([^\s<>@]+)?@[^\s<>@]+$/;
