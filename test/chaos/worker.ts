/**
 * A process the reliability suite kills: it runs one upgrade with a kept state folder and prints
 * each state it enters, so the parent can kill it at a chosen point (`node --import tsx`).
 * Arguments: STATE_DIR VERSION.
 */
import { LocalStack } from '../../local/stack';
import { versionPublished } from '../support/events';
import { demo, START } from './scenarios';

const [stateDir, version] = process.argv.slice(2);
if (!stateDir || !version) throw new Error('usage: worker.ts STATE_DIR VERSION');
const stack = await LocalStack.start({ catalog: demo(), stateDir, startAt: START });
stack.engine.onTransition((t) => {
  if (t.phase === 'entered') process.stdout.write(`STATE ${t.state}\n`);
});
const { record } = await stack.run(versionPublished({ version, environment: 'staging' }));
await stack.close();
process.stdout.write(`DONE ${record?.outcome}\n`);
