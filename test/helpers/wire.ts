/** A raw TCP connection to a test server, for the wire behaviour a well-behaved client never shows. */
import { connect, type Socket } from 'node:net';

/** A raw connection to 127.0.0.1: bytes in, everything answered so far out. */
export class Wire {
  readonly socket: Socket;
  text = '';
  closed = false;
  #waiters: Array<() => void> = [];

  constructor(port: number) {
    this.socket = connect(port, '127.0.0.1');
    this.socket.on('data', (data: Buffer) => {
      this.text += data.toString('latin1');
      this.#wake();
    });
    this.socket.on('error', () => {});
    this.socket.on('close', () => {
      this.closed = true;
      this.#wake();
    });
  }

  #wake(): void {
    for (const wake of this.#waiters.splice(0)) wake();
  }

  send(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Waits until the answer so far passes `test`, or the connection closes. */
  async until(test: (text: string) => boolean): Promise<string> {
    while (!test(this.text) && !this.closed) await new Promise<void>((resolve) => this.#waiters.push(resolve));
    return this.text;
  }

  /**
   * Writes `total` bytes of `unit`s as fast as the connection takes them, stopping when the server
   * closes it or answers; resolves with the bytes the socket accepted.
   */
  async flood(unit: Buffer, total: number): Promise<number> {
    let written = 0;
    while (written < total && !this.closed && !this.text.includes('\r\n\r\n')) {
      written += unit.length;
      if (!this.socket.write(unit)) {
        await new Promise<void>((resolve) => {
          const done = () => {
            this.socket.off('drain', done);
            this.#waiters = this.#waiters.filter((wake) => wake !== done);
            resolve();
          };
          this.socket.once('drain', done);
          this.#waiters.push(done);
        });
      }
    }
    return written;
  }
}
