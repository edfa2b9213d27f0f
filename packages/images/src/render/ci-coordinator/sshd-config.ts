import type { ResolvedCiCoordinatorSpec } from '../../spec/ci-coordinator.js';

/** Where the image installs the entrypoint; sshd runs it again as each session's forced command. */
export const ENTRYPOINT_PATH = '/usr/local/bin/docker-entrypoint.sh';

/** The flag that makes the entrypoint act as an SSH session's forced command. */
export const SESSION_FLAG = '--ssh-session';

/**
 * sshd's whole configuration (it replaces the distribution's file, so nothing from `sshd_config.d` slips in):
 * public keys only, one user, no forwarding, and every session started through the entrypoint so that it sees
 * the container's environment.
 */
export function sshdConfigLines(spec: ResolvedCiCoordinatorSpec): string[] {
  return [
    '# Written by the Dockerfile that @gitlab-fargate/images generates: public keys only, one user, no forwarding.',
    `Port ${spec.sshPort}`,
    ...spec.hostKeyTypes.map((type) => `HostKey /etc/ssh/ssh_host_${type}_key`),
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
