import { describeLifecycleFaultMatrix } from '../../test/workflows/support';

describeLifecycleFaultMatrix('transient', ['DeprovisionTenant', 'SuspendTenant', 'ResumeTenant', 'UpdateTenant']);
