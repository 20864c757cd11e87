import { describeIngressFaultMatrix } from './ingress-fault-matrix';

describeIngressFaultMatrix(['throttle', 'crashAfterSuccess']);
