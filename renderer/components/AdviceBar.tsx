// An error as the admin should read it: what happened (the relay's or the server's own words), then,
// when the advice catalogue knows it, the cause and the fix; config keys in them ("smarthost.auth.username")
// become the labels of the fields the window shows.
import { makeStyles, MessageBar, MessageBarBody, MessageBarTitle, tokens, type MessageBarIntent } from '@fluentui/react-components';
import type { ReactNode } from 'react';
import type { Advice } from '../../src/api/contract.js';
import { adviceFor } from '../../src/advice/catalogue.js';
import { inWindowWords } from '../field-labels.js';

const useStyles = makeStyles({
  body: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalXS, paddingBlock: tokens.spacingVerticalXS },
  message: { whiteSpace: 'pre-wrap', overflowWrap: 'anywhere' },
});

interface AdviceBarProps {
  title: string;
  /** The error or reply, shown as it is but for config keys. */
  message?: string | null;
  /** The catalogue's advice; looked up from `message` when not given. */
  advice?: Advice | null;
  /** smarthost.auth.method when `message` may be a sign-in failure: under OAuth2 its entries come first. */
  method?: string;
  intent?: MessageBarIntent;
  /** Shown right after the message, before the catalogue's advice (the health model's cause). */
  detail?: ReactNode;
  actions?: ReactNode;
}

export function AdviceBar({ title, message, advice, method, intent = 'error', detail, actions }: AdviceBarProps) {
  const styles = useStyles();
  const help = advice === undefined ? adviceFor(message, { method }) : advice;
  return (
    <MessageBar intent={intent} layout="multiline" role={intent === 'error' ? 'alert' : 'status'}>
      <MessageBarBody className={styles.body}>
        <MessageBarTitle>{title}</MessageBarTitle>
        {message && <span className={styles.message}>{inWindowWords(message)}</span>}
        {detail}
        {help && <span>{inWindowWords(help.cause)}</span>}
        {help && <span><strong>What to do: </strong>{inWindowWords(help.fix)}</span>}
        {actions}
      </MessageBarBody>
    </MessageBar>
  );
}
