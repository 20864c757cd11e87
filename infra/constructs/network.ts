/**
 * The cell's network: a new VPC (default) or an existing one given by ids, the VPC endpoints that let
 * default-deny tenant tasks pull images, log, read secrets and call Bedrock (and the in-VPC Purge
 * function read DynamoDB and start Step Functions runs), and the two security groups
 * tenant groups point their platform egress at (VPC endpoints, EFS mount targets).
 */
import { CfnOutput, Fn, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { ExistingVpc } from '../config';
import { endpointPolicyDocument, endpointPolicyStatements, type EndpointName } from './endpoint-policies';

export interface NetworkProps {
  /** Prefix of resource names, `octw-<cell>`. */
  readonly prefix: string;
  /** Use this VPC instead of creating one. @default - a new VPC */
  readonly existingVpc?: ExistingVpc;
  /** CIDR of the new VPC. */
  readonly vpcCidr: string;
  /** Availability zones of the new VPC (2-3). */
  readonly azCount: number;
  /** Prefix length of each private subnet of the new VPC; /19 = 8,190 task ENIs per AZ. */
  readonly privateSubnetCidrMask: number;
  /** NAT gateways of the new VPC (tenant allowlists to the internet need at least one). */
  readonly natGateways: number;
  /** Create the interface endpoints and the S3 gateway endpoint. */
  readonly createVpcEndpoints: boolean;
  /** Retention of the VPC flow log. */
  readonly flowLogRetention: logs.RetentionDays;
  /**
   * The cell has an egress proxy (issue 10): a new VPC gets an `Egress` subnet group (proxy tasks and
   * their load balancer), the only one routed to the NAT gateways; the tenant `Tasks` subnets become
   * isolated. An existing VPC keeps its subnets (the proxy runs in them): the tenant security groups
   * are then the only thing between tenants and its NAT route. @default false
   */
  readonly egressSubnetGroup?: boolean;
}

export const INTERFACE_ENDPOINTS: Readonly<Partial<Record<EndpointName, ec2.InterfaceVpcEndpointAwsService>>> = {
  EcrApi: ec2.InterfaceVpcEndpointAwsService.ECR,
  EcrDocker: ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
  Logs: ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
  SecretsManager: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
  Sts: ec2.InterfaceVpcEndpointAwsService.STS,
  BedrockRuntime: ec2.InterfaceVpcEndpointAwsService.BEDROCK_RUNTIME,
  /** The Purge function runs in the VPC (EFS mount); its daily sweep starts PurgeTenant runs. */
  StepFunctions: ec2.InterfaceVpcEndpointAwsService.STEP_FUNCTIONS,
  /** The Usage function runs in the VPC (EFS mount); it puts TenantOverQuota events. */
  Events: ec2.InterfaceVpcEndpointAwsService.EVENTBRIDGE,
};

/** The gateway endpoints: S3 (ECR image layers) and DynamoDB (the in-VPC functions read tenant records). */
export const GATEWAY_ENDPOINTS: Readonly<Partial<Record<EndpointName, ec2.GatewayVpcEndpointAwsService>>> = {
  S3: ec2.GatewayVpcEndpointAwsService.S3,
  DynamoDb: ec2.GatewayVpcEndpointAwsService.DYNAMODB,
};

export class Network extends Construct {
  readonly vpc: ec2.IVpc;
  readonly vpcCidr: string;
  readonly privateSubnets: ec2.SubnetSelection;
  readonly privateSubnetIds: string[];
  /** Where the egress proxy runs: the `Egress` group of a new VPC with a proxy, else the private subnets. */
  readonly egressSubnets: ec2.SubnetSelection;
  /** Interface endpoints accept 443 from the VPC; tenant groups allow egress 443 to this group. */
  readonly endpointsSecurityGroup: ec2.SecurityGroup;
  /** EFS mount targets accept 2049 from the VPC; tenant groups allow egress 2049 to this group. */
  readonly efsSecurityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    if (props.azCount < 2 || props.azCount > 3) throw new Error(`azCount must be 2 or 3, got ${props.azCount}`);

    if (props.existingVpc) {
      const v = props.existingVpc;
      this.vpc = ec2.Vpc.fromVpcAttributes(this, 'Vpc', {
        vpcId: v.vpcId,
        vpcCidrBlock: v.vpcCidr,
        availabilityZones: v.availabilityZones,
        privateSubnetIds: v.privateSubnetIds,
        privateSubnetRouteTableIds: v.privateSubnetRouteTableIds,
      });
      this.vpcCidr = v.vpcCidr;
      this.privateSubnets = { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
      this.egressSubnets = this.privateSubnets;
    } else {
      const egressGroup = props.egressSubnetGroup === true && props.natGateways > 0;
      // Env-agnostic stack: name the AZs by index so synth needs no lookup.
      const availabilityZones = Array.from({ length: props.azCount }, (_, i) => Fn.select(i, Fn.getAzs()));
      const vpc = new ec2.Vpc(this, 'Vpc', {
        ipAddresses: ec2.IpAddresses.cidr(props.vpcCidr),
        availabilityZones,
        natGateways: props.natGateways,
        subnetConfiguration: [
          // Public subnets only hold NAT gateways; tasks never get public IPs.
          { name: 'Public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24, mapPublicIpOnLaunch: false },
          // With a proxy, only its subnets route to NAT: a tenant task has no route to the internet at all.
          ...(egressGroup ? [{ name: 'Egress', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 24 }] : []),
          {
            name: 'Tasks',
            subnetType: props.natGateways > 0 && !egressGroup ? ec2.SubnetType.PRIVATE_WITH_EGRESS : ec2.SubnetType.PRIVATE_ISOLATED,
            cidrMask: props.privateSubnetCidrMask,
          },
        ],
        restrictDefaultSecurityGroup: true,
      });
      const flowLogGroup = new logs.LogGroup(this, 'FlowLogs', {
        retention: props.flowLogRetention,
        removalPolicy: RemovalPolicy.RETAIN,
      });
      vpc.addFlowLog('FlowLog', {
        destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogGroup),
        trafficType: ec2.FlowLogTrafficType.REJECT,
      });
      this.vpc = vpc;
      this.vpcCidr = vpc.vpcCidrBlock;
      this.privateSubnets = { subnetGroupName: 'Tasks' };
      this.egressSubnets = egressGroup ? { subnetGroupName: 'Egress' } : this.privateSubnets;
    }
    this.privateSubnetIds = this.vpc.selectSubnets(this.privateSubnets).subnetIds;

    this.endpointsSecurityGroup = new ec2.SecurityGroup(this, 'EndpointsSecurityGroup', {
      vpc: this.vpc,
      securityGroupName: `${props.prefix}-vpc-endpoints`,
      description: 'OCTW VPC interface endpoints: HTTPS from the cell VPC',
      allowAllOutbound: false,
    });
    this.endpointsSecurityGroup.addIngressRule(ec2.Peer.ipv4(this.vpcCidr), ec2.Port.tcp(443), 'HTTPS from the cell VPC');

    this.efsSecurityGroup = new ec2.SecurityGroup(this, 'EfsSecurityGroup', {
      vpc: this.vpc,
      securityGroupName: `${props.prefix}-efs`,
      description: 'OCTW EFS mount targets: NFS from the cell VPC',
      allowAllOutbound: false,
    });
    this.efsSecurityGroup.addIngressRule(ec2.Peer.ipv4(this.vpcCidr), ec2.Port.tcp(2049), 'NFS from the cell VPC');

    for (const sg of [this.endpointsSecurityGroup, this.efsSecurityGroup]) {
      Validations.of(sg).acknowledge({
        id: 'AwsSolutions-EC23',
        reason: 'The only ingress rule is one port from the cell VPC CIDR (an intrinsic cdk-nag cannot resolve), not 0.0.0.0/0.',
      });
    }

    if (props.createVpcEndpoints) {
      for (const [name, service] of Object.entries(INTERFACE_ENDPOINTS) as [EndpointName, ec2.InterfaceVpcEndpointAwsService][]) {
        const endpoint = this.vpc.addInterfaceEndpoint(name, {
          service,
          subnets: this.privateSubnets,
          securityGroups: [this.endpointsSecurityGroup],
          privateDnsEnabled: true,
          open: false,
        });
        // Only this account's principals on this account's resources (see endpoint-policies.ts).
        for (const statement of endpointPolicyStatements(name)) endpoint.addToPolicy(statement);
      }
      // ECR stores image layers in S3; the Purge and Usage functions (in the VPC) read tenant records.
      // Gateway endpoints cost nothing.
      for (const [name, service] of Object.entries(GATEWAY_ENDPOINTS) as [EndpointName, ec2.GatewayVpcEndpointAwsService][]) {
        // The proxy's subnets too: its sidecar reads the policy table and ECR layers without NAT.
        const subnets = this.egressSubnets === this.privateSubnets ? [this.privateSubnets] : [this.privateSubnets, this.egressSubnets];
        const endpoint = this.vpc.addGatewayEndpoint(name, { service, subnets });
        for (const statement of endpointPolicyStatements(name)) endpoint.addToPolicy(statement);
      }
    }
    // The same documents as outputs, created or not: an existing VPC's endpoints need them too (README).
    for (const name of [...Object.keys(INTERFACE_ENDPOINTS), ...Object.keys(GATEWAY_ENDPOINTS)] as EndpointName[]) {
      new CfnOutput(Stack.of(this), `EndpointPolicy${name}`, {
        description: `Policy of the ${name} VPC endpoint (apply it to an existing VPC's endpoint)`,
        value: Stack.of(this).toJsonString(endpointPolicyDocument(name).toJSON()),
      });
    }
  }
}
