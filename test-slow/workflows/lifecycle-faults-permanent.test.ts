import { describeLifecycleFaultMatrix } from '../../test/workflows/support';

describeLifecycleFaultMatrix('permanent', ['DeprovisionTenant', 'SuspendTenant', 'ResumeTenant', 'UpdateTenant']);
