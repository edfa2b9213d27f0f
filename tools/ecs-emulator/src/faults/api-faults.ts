import { AwsError } from '../wire/aws-error.js';
import type { FaultState } from './faults.js';

/** The serverError and accessDenied faults: whole-call failures, checked after throttling as on AWS. */
export function injectApiFault(faults: FaultState, operation: string, accountId: string): void {
  const { serverError, accessDenied } = faults.options;
  if (serverError && (serverError.operations ?? [operation]).includes(operation) && faults.hits('serverError', serverError)) {
    throw new AwsError('ServerException', 'Service Unavailable. Please try again later.', 500);
  }
  if (accessDenied && (accessDenied.operations ?? [operation]).includes(operation) && faults.hits('accessDenied', accessDenied)) {
    throw new AwsError(
      'AccessDeniedException',
      `User: arn:aws:iam::${accountId}:user/emulator is not authorized to perform: ecs:${operation} on resource: * because no identity-based policy allows the ecs:${operation} action`,
    );
  }
}
