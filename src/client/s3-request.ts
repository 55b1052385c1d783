/** The handle makeRequest returns. */

/** The part of a transfer a handle needs. */
export interface RequestControl {
  readonly finished: Promise<void>;
  readonly shutdown: Promise<void>;
  cancel(): void;
}

/** A request in progress, created by {@link S3Client.makeRequest}. */
export class S3Request {
  /** Resolves when the request succeeds; rejects with the error when it fails. Settles before onDone runs. */
  readonly finishedFuture: Promise<void>;
  /** Resolves once every connection use, file handle and timer of the request is released, after onDone. */
  readonly shutdownEvent: Promise<void>;
  readonly #control: RequestControl;

  constructor(control: RequestControl) {
    this.#control = control;
    this.finishedFuture = control.finished;
    this.shutdownEvent = control.shutdown;
  }

  /** Stops the request: parts in flight are aborted, a multipart upload is aborted, a partial file removed. It fails with code AWS_ERROR_S3_CANCELED. */
  cancel(): void {
    this.#control.cancel();
  }
}
