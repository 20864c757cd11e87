/**
 * EC2 network reads the quota guard counts (issue 13.5): DescribeNetworkInterfaces (the ENIs the
 * fake's Fargate tasks hold until released) and DescribeSubnets (subnets the local cell seeds, with
 * `AvailableIpAddressCount` = addresses of the CIDR − the 5 AWS reserves − the ENIs in the subnet).
 * Errors (EC2 API Reference, "Error codes"): an unknown subnet id is `InvalidSubnetID.NotFound`;
 * MaxResults outside 5-1000 is `InvalidParameterValue`.
 */
import type * as ec2 from '@aws-sdk/client-ec2';
import { ec2Error } from './errors';
import { paginate } from './ec2';

export interface FakeSubnet {
  readonly subnetId: string;
  readonly vpcId: string;
  readonly cidr: string;
  readonly availabilityZone?: string;
}

export interface FakeEni {
  readonly id: string;
  readonly privateIp: string;
  readonly securityGroups: readonly string[];
  readonly subnetId?: string;
}

export class Ec2Network {
  readonly subnets = new Map<string, FakeSubnet>();

  constructor(private readonly enis: () => readonly FakeEni[]) {}

  addSubnet(subnet: FakeSubnet): void {
    this.subnets.set(subnet.subnetId, subnet);
  }

  describeNetworkInterfaces(i: ec2.DescribeNetworkInterfacesCommandInput): ec2.DescribeNetworkInterfacesCommandOutput {
    if (i.MaxResults !== undefined && (i.MaxResults < 5 || i.MaxResults > 1000)) {
      throw ec2Error('InvalidParameterValue', `Value ( ${i.MaxResults} ) for parameter maxResults is invalid. Expecting a value between 5 and 1000.`);
    }
    const all = this.enis().filter((e) => !i.NetworkInterfaceIds || i.NetworkInterfaceIds.includes(e.id));
    const { page, next } = paginate([...all], i.MaxResults, i.NextToken);
    return {
      $metadata: {},
      NetworkInterfaces: page.map((e) => ({
        NetworkInterfaceId: e.id,
        PrivateIpAddress: e.privateIp,
        Status: 'in-use',
        InterfaceType: 'interface',
        Groups: e.securityGroups.map((GroupId) => ({ GroupId })),
        ...(e.subnetId ? { SubnetId: e.subnetId, VpcId: this.subnets.get(e.subnetId)?.vpcId } : {}),
      })),
      ...(next ? { NextToken: next } : {}),
    };
  }

  describeSubnets(i: ec2.DescribeSubnetsCommandInput): ec2.DescribeSubnetsCommandOutput {
    const ids = i.SubnetIds ?? [...this.subnets.keys()];
    const missing = ids.filter((id) => !this.subnets.has(id));
    if (missing.length > 0) throw ec2Error('InvalidSubnetID.NotFound', `The subnet ID '${missing.join("', '")}' does not exist`);
    const enis = this.enis();
    return {
      $metadata: {},
      Subnets: ids.map((id) => {
        const s = this.subnets.get(id)!;
        const size = 2 ** (32 - Number(s.cidr.split('/')[1]));
        const used = enis.filter((e) => e.subnetId === id).length;
        return {
          SubnetId: s.subnetId,
          VpcId: s.vpcId,
          CidrBlock: s.cidr,
          State: 'available',
          ...(s.availabilityZone ? { AvailabilityZone: s.availabilityZone } : {}),
          AvailableIpAddressCount: Math.max(0, size - 5 - used),
        };
      }),
    };
  }
}
