/**
 * The platform in an existing VPC given by ids: no VPC is created, nothing is looked up at synth,
 * endpoints, mount targets and task subnets use the given private subnets.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { synthPlatform } from './synth';

const existingVpc = {
  vpcId: 'vpc-0123456789abcdef0',
  vpcCidr: '10.20.0.0/16',
  availabilityZones: ['eu-west-1a', 'eu-west-1b'],
  privateSubnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
  privateSubnetRouteTableIds: ['rtb-0123456789abcdef0', 'rtb-0123456789abcdef1'],
};
const { template, synthError } = synthPlatform({ context: { existingVpc, cellId: 'byo' } });

describe('PlatformStack in an existing VPC', () => {
  it('synthesizes with no unacknowledged cdk-nag finding and without any lookup', () => {
    expect(synthError?.message).toBeUndefined();
  });

  it('creates no VPC, subnets or NAT gateways of its own', () => {
    for (const type of ['AWS::EC2::VPC', 'AWS::EC2::Subnet', 'AWS::EC2::NatGateway']) template.resourceCountIs(type, 0);
  });

  it('puts EFS mount targets and interface endpoints into the given private subnets', () => {
    for (const subnet of existingVpc.privateSubnetIds) template.hasResourceProperties('AWS::EFS::MountTarget', { SubnetId: subnet });
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Interface', SubnetIds: existingVpc.privateSubnetIds });
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Gateway', RouteTableIds: existingVpc.privateSubnetRouteTableIds });
  });

  it('hands the handlers the given VPC id, CIDR and subnets', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'octw-byo-network',
      Environment: { Variables: Match.objectLike({ VPC_ID: existingVpc.vpcId, VPC_CIDR: existingVpc.vpcCidr }) },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'octw-byo-gateway',
      Environment: { Variables: Match.objectLike({ SUBNET_IDS: existingVpc.privateSubnetIds.join(',') }) },
    });
  });

  it('admits NFS and HTTPS to the platform security groups from the given VPC CIDR only', () => {
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupName: 'octw-byo-efs',
      SecurityGroupIngress: [Match.objectLike({ CidrIp: existingVpc.vpcCidr, FromPort: 2049, ToPort: 2049 })],
    });
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupName: 'octw-byo-vpc-endpoints',
      SecurityGroupIngress: [Match.objectLike({ CidrIp: existingVpc.vpcCidr, FromPort: 443, ToPort: 443 })],
    });
  });
});
