import { describeLifecycleFaultMatrix } from '../../test/workflows/support';

describeLifecycleFaultMatrix('crashAfterSuccess', ['DeprovisionTenant', 'SuspendTenant', 'ResumeTenant', 'UpdateTenant']);
