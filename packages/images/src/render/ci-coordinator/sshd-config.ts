import type { ResolvedCiCoordinatorSpec } from '../../spec/ci-coordinator.js';
import { hostKeyAlgorithms, JOB_KEY_TYPE, SSH_CIPHERS, SSH_KEX_ALGORITHMS, SSH_MACS } from './ssh-algorithms.js';

/** Where the image installs the entrypoint; sshd runs it again as each session's forced command. */
export const ENTRYPOINT_PATH = '/usr/local/bin/docker-entrypoint.sh';

/** The flag that makes the entrypoint act as an SSH session's forced command. */
export const SESSION_FLAG = '--ssh-session';

/** Failed authentication attempts per connection before sshd disconnects (the driver needs one). */
export const SSHD_MAX_AUTH_TRIES = 3;

/** Seconds a client has to authenticate (the driver takes well under one on a task's private network). */
export const SSHD_LOGIN_GRACE_SECONDS = 20;

/**
 * sshd's whole configuration (it replaces the distribution's file, so nothing from `sshd_config.d` slips in):
 * public keys only, one user, pinned modern algorithms, few attempts, no forwarding, and every session started
 * through the entrypoint so that it sees the container's environment.
 */
export function sshdConfigLines(spec: ResolvedCiCoordinatorSpec): string[] {
  return [
    '# Written by the Dockerfile that @gitlab-fargate/images generates: ed25519 keys only, one user, no forwarding.',
    `Port ${spec.sshPort}`,
    ...spec.hostKeyTypes.map((type) => `HostKey /etc/ssh/ssh_host_${type}_key`),
    `KexAlgorithms ${SSH_KEX_ALGORITHMS.join(',')}`,
    `Ciphers ${SSH_CIPHERS.join(',')}`,
    `MACs ${SSH_MACS.join(',')}`,
    `HostKeyAlgorithms ${hostKeyAlgorithms(spec.hostKeyTypes).join(',')}`,
    `PubkeyAcceptedAlgorithms ${JOB_KEY_TYPE}`,
    `MaxAuthTries ${SSHD_MAX_AUTH_TRIES}`,
    `LoginGraceTime ${SSHD_LOGIN_GRACE_SECONDS}`,
    `AllowUsers ${spec.sshUser}`,
    `PermitRootLogin ${spec.sshUser === 'root' ? 'prohibit-password' : 'no'}`,
    'AuthenticationMethods publickey',
    'PubkeyAuthentication yes',
    'AuthorizedKeysFile .ssh/authorized_keys',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PermitEmptyPasswords no',
    'HostbasedAuthentication no',
    'UsePAM no',
    'PermitUserEnvironment no',
    'StrictModes yes',
    'AllowAgentForwarding no',
    'AllowTcpForwarding no',
    'AllowStreamLocalForwarding no',
    'X11Forwarding no',
    'PermitTunnel no',
    'GatewayPorts no',
    'PrintMotd no',
    'PrintLastLog no',
    'UseDNS no',
    'ClientAliveInterval 30',
    'ClientAliveCountMax 4',
    'LogLevel INFO',
    // Sessions do not inherit PID 1's environment: the entrypoint saved it at start and loads it here.
    `ForceCommand ${ENTRYPOINT_PATH} ${SESSION_FLAG}`,
  ];
}
