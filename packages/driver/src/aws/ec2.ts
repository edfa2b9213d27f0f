/**
 * The EC2 parts the driver uses (a public IP's lookup), in a module of their own so that callers load them with a
 * dynamic import of this file, never of `@aws-sdk/client-ec2` itself: in esbuild's split bundle (the driver the
 * runner-manager image ships) a dynamic import of a CommonJS package yields only a default export, so the names
 * read from it would be undefined.
 */
export { DescribeNetworkInterfacesCommand, EC2Client } from '@aws-sdk/client-ec2';
