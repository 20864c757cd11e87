import { describeIngressFaultMatrix } from './ingress-fault-matrix';

describeIngressFaultMatrix(['transient', 'permanent']);
