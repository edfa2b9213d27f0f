/**
 * An error the emulator answers with AWS's wire envelope. `code` is the `__type` the SDK turns into its
 * modeled exception class (e.g. `ClientException`), so callers can rely on `instanceof` as on AWS.
 */
export class AwsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** HTTP status: AWS uses 400 for every client-side exception and 500 for `ServerException`. */
    readonly statusCode: number = 400,
    /** Modeled members sent beside `message`, e.g. `resourceIds` of a `ConflictException`. */
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = code;
  }
}

export const clientException = (message: string): AwsError => new AwsError('ClientException', message);
export const invalidParameter = (message: string): AwsError => new AwsError('InvalidParameterException', message);
export const clusterNotFound = (): AwsError => new AwsError('ClusterNotFoundException', 'Cluster not found.');
