import type { WireResponse } from './json-protocol.js';

/** What the EC2 side knows about one task ENI. */
export interface NetworkInterfaceView {
  readonly networkInterfaceId: string;
  readonly subnetId: string;
  readonly vpcId: string;
  readonly availabilityZone: string;
  readonly description: string;
  readonly macAddress: string;
  readonly privateIpAddress: string;
  readonly privateDnsName: string;
  readonly publicIp?: string;
  readonly securityGroups: readonly string[];
}

/** An EC2 query-protocol error: XML, with EC2's own codes (e.g. `InvalidNetworkInterfaceID.NotFound`). */
export class Ec2Error extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly statusCode = 400,
  ) {
    super(message);
  }
}

const EC2_NS = 'http://ec2.amazonaws.com/doc/2016-11-15/';

export function xmlEscape(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);
}

/** Values of a flattened list parameter: `Prefix.1`, `Prefix.2`, … */
export function listParam(params: URLSearchParams, prefix: string): string[] {
  const values: string[] = [];
  for (let i = 1; params.has(`${prefix}.${i}`); i++) values.push(params.get(`${prefix}.${i}`)!);
  return values;
}

/** `Filter.N.Name` / `Filter.N.Value.M` pairs. */
export function filterParams(params: URLSearchParams): Map<string, string[]> {
  const filters = new Map<string, string[]>();
  for (let i = 1; params.has(`Filter.${i}.Name`); i++) filters.set(params.get(`Filter.${i}.Name`)!, listParam(params, `Filter.${i}.Value`));
  return filters;
}

function interfaceXml(eni: NetworkInterfaceView, ownerId: string): string {
  const association = eni.publicIp
    ? `<association><publicIp>${eni.publicIp}</publicIp><publicDnsName>ec2-${eni.publicIp.replaceAll('.', '-')}.compute-1.amazonaws.com</publicDnsName><ipOwnerId>amazon</ipOwnerId></association>`
    : '';
  const groups = eni.securityGroups.map((id) => `<item><groupId>${xmlEscape(id)}</groupId><groupName>${xmlEscape(id)}</groupName></item>`).join('');
  return (
    `<item><networkInterfaceId>${eni.networkInterfaceId}</networkInterfaceId><subnetId>${xmlEscape(eni.subnetId)}</subnetId>` +
    `<vpcId>${eni.vpcId}</vpcId><availabilityZone>${eni.availabilityZone}</availabilityZone><description>${xmlEscape(eni.description)}</description>` +
    `<ownerId>${ownerId}</ownerId><requesterId>amazon-ecs</requesterId><requesterManaged>true</requesterManaged><status>in-use</status>` +
    `<macAddress>${eni.macAddress}</macAddress><privateIpAddress>${eni.privateIpAddress}</privateIpAddress><privateDnsName>${eni.privateDnsName}</privateDnsName>` +
    `<sourceDestCheck>true</sourceDestCheck><interfaceType>interface</interfaceType><groupSet>${groups}</groupSet>${association}` +
    `<privateIpAddressesSet><item><privateIpAddress>${eni.privateIpAddress}</privateIpAddress><privateDnsName>${eni.privateDnsName}</privateDnsName><primary>true</primary>${association}</item></privateIpAddressesSet>` +
    `<ipv6AddressesSet/><tagSet/></item>`
  );
}

/** The XML body of a DescribeNetworkInterfaces answer. */
export function describeNetworkInterfacesXml(enis: readonly NetworkInterfaceView[], ownerId: string, requestId: string): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<DescribeNetworkInterfacesResponse xmlns="${EC2_NS}"><requestId>${requestId}</requestId>` +
    `<networkInterfaceSet>${enis.map((eni) => interfaceXml(eni, ownerId)).join('')}</networkInterfaceSet></DescribeNetworkInterfacesResponse>`
  );
}

export function ec2ErrorResponse(error: Ec2Error, requestId: string): WireResponse {
  return {
    statusCode: error.statusCode,
    headers: { 'Content-Type': 'text/xml;charset=UTF-8', 'x-amzn-RequestId': requestId },
    body: `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${xmlEscape(error.code)}</Code><Message>${xmlEscape(error.message)}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`,
  };
}

/**
 * Serves DescribeNetworkInterfaces by id (`NetworkInterfaceId.N`) and the filters a driver may use;
 * every other EC2 action is `InvalidAction`, as EC2 answers for unknown actions.
 */
export function handleEc2(
  params: URLSearchParams,
  enis: readonly NetworkInterfaceView[],
  ownerId: string,
  requestId: string,
): WireResponse {
  const action = params.get('Action');
  if (action !== 'DescribeNetworkInterfaces') {
    throw new Ec2Error('InvalidAction', `The action ${action ?? '(none)'} is not valid for this web service.`);
  }
  const ids = listParam(params, 'NetworkInterfaceId');
  const filters = filterParams(params);
  const known = new Set(['network-interface-id', 'subnet-id', 'addresses.private-ip-address', 'private-ip-address', 'association.public-ip', 'description']);
  for (const name of filters.keys()) {
    if (!known.has(name)) throw new Ec2Error('InvalidParameterValue', `The filter '${name}' is invalid`);
  }
  for (const id of ids) {
    if (!enis.some((eni) => eni.networkInterfaceId === id)) {
      throw new Ec2Error('InvalidNetworkInterfaceID.NotFound', `The networkInterface ID '${id}' does not exist`);
    }
  }
  const value = (eni: NetworkInterfaceView, filter: string): string | undefined =>
    ({
      'network-interface-id': eni.networkInterfaceId,
      'subnet-id': eni.subnetId,
      'addresses.private-ip-address': eni.privateIpAddress,
      'private-ip-address': eni.privateIpAddress,
      'association.public-ip': eni.publicIp,
      description: eni.description,
    })[filter];
  const selected = enis.filter(
    (eni) =>
      (ids.length === 0 || ids.includes(eni.networkInterfaceId)) &&
      [...filters].every(([name, values]) => values.includes(value(eni, name) ?? '\u0000')),
  );
  return {
    statusCode: 200,
    headers: { 'Content-Type': 'text/xml;charset=UTF-8', 'x-amzn-RequestId': requestId },
    body: describeNetworkInterfacesXml(selected, ownerId, requestId),
  };
}
