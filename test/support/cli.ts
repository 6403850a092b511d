import { main } from '../../cli/main';

/** Runs the CLI in this process and returns its exit code with what it wrote to stdout and stderr. */
export async function runCli(args: string[]): Promise<{ code: number; text: string; err: string }> {
  let text = '';
  let err = '';
  const code = await main(
    args,
    (s) => {
      text += s;
    },
    (s) => {
      err += s;
    },
  );
  return { code, text, err };
}
