// -K/--ask-become-pass and -k/--ask-pass: a password read from the terminal without echo (as
// Ansible's "BECOME password: " prompt). Without a terminal, one line of standard input is read,
// so a script can pipe it; the value is never printed or logged.
export async function promptSecret(question: string, input: NodeJS.ReadStream = process.stdin): Promise<string> {
  process.stderr.write(question);
  if (!input.isTTY) return readLine(input);
  return new Promise((resolve, reject) => {
    let value = '';
    input.setRawMode(true);
    input.resume();
    input.setEncoding('utf8');
    const done = (err?: Error) => {
      input.setRawMode(false);
      input.pause();
      input.off('data', onData);
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: string) => {
      for (const c of chunk) {
        if (c === '\r' || c === '\n') return done();
        if (c === '\u0003') return done(new Error('interrupted at the password prompt'));
        if (c === '\u007f' || c === '\b') value = value.slice(0, -1);
        else value += c;
      }
    };
    input.on('data', onData);
  });
}

function readLine(input: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve) => {
    let buf = '';
    const onData = (chunk: Buffer | string) => {
      buf += chunk.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) finish(buf.slice(0, nl));
    };
    const finish = (line: string) => {
      input.off('data', onData);
      input.off('end', onEnd);
      input.pause();
      resolve(line.replace(/\r$/, ''));
    };
    const onEnd = () => finish(buf);
    input.on('data', onData);
    input.on('end', onEnd);
    input.resume();
  });
}
