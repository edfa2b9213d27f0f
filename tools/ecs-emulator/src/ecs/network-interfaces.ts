import { createHash } from 'node:crypto';
import { privateDnsName } from '../lifecycle/state-machine.js';
import type { NetworkInterfaceView } from '../wire/ec2-query.js';
import type { ArnScope } from './identifiers.js';
import type { EcsStore } from './store.js';

/** A stable made-up VPC id per subnet: there is no VPC, but EC2 answers carry one. */
function vpcIdFor(subnetId: string): string {
  return `vpc-${createHash('sha256').update(subnetId).digest('hex').slice(0, 17)}`;
}

/** The ENIs of tasks that still have one (PENDING up to, not including, STOPPED), as EC2 shows them. */
export function taskNetworkInterfaces(store: EcsStore, scope: ArnScope, now: number): NetworkInterfaceView[] {
  return store.liveTasks(now).flatMap(({ task, runtime }) => {
    const eni = runtime.eni;
    const attachment = task.attachments[0];
    if (!eni || !attachment || attachment.status === 'DELETED') return [];
    return [
      {
        networkInterfaceId: eni.eniId,
        subnetId: eni.subnetId,
        vpcId: vpcIdFor(eni.subnetId),
        availabilityZone: task.availabilityZone,
        description: `arn:aws:ecs:${scope.region}:${scope.accountId}:attachment/${attachment.id}`,
        macAddress: eni.macAddress,
        privateIpAddress: eni.privateIp,
        privateDnsName: privateDnsName(eni.privateIp),
        ...(eni.publicIp ? { publicIp: eni.publicIp } : {}),
        securityGroups: [],
      },
    ];
  });
}
