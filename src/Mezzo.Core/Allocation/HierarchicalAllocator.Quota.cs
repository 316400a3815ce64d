using Mezzo.Core.Resources;

namespace Mezzo.Core.Allocation;

using Resources = Mezzo.Core.Resources.Resources;

public sealed partial class HierarchicalAllocator
{
    /// <summary>
    /// Quota bookkeeping for one cycle (Mesos's <c>rolesConsumedQuota</c>, required and available headroom), over the
    /// scalar names any quota mentions, in thousandths.
    /// <para>A role's consumed quota is what its subtree is allocated unreserved plus everything reserved to its subtree,
    /// allocated or not (Mesos: "reservations are bound to the role"); offering reserved resources consumes nothing.</para>
    /// <para>Headroom is worked out over the tree: a role needs <c>max(its unsatisfied guarantee, what its children
    /// need)</c>, the cluster the sum of what the top-level roles need, so a parent guarantee covering its children's is
    /// not counted twice. <see cref="RoleState.Guaranteed"/> is how much a role can take that lowers that requirement
    /// one for one: what it may take out of the held-back headroom, and all that stage 1 offers it of a guaranteed
    /// resource.</para>
    /// </summary>
    private sealed class QuotaState
    {
        private readonly Dictionary<string, int> _index;
        private readonly long[] _available;
        private readonly long[] _required;
        private readonly RoleState[] _guaranteeRolesDeepestFirst;
        private readonly RoleState[] _clientRoles;
        private bool _dirty = true;
        private bool _requiredIsZero;

        private QuotaState(Dictionary<string, int> index)
        {
            _index = index;
            _available = new long[index.Count];
            _required = new long[index.Count];
            _guaranteeRolesDeepestFirst = [];
            _clientRoles = [];
        }

        private QuotaState(Dictionary<string, int> index, RoleState[] guaranteeRoles, RoleState[] clientRoles)
            : this(index)
        {
            _guaranteeRolesDeepestFirst = guaranteeRoles;
            _clientRoles = clientRoles;
        }

        public bool AnyStage1 { get; private set; }

        public static QuotaState? Create(AllocationInput input, Cycle cycle)
        {
            var index = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var quota in input.Quotas.Values)
            {
                foreach (var name in quota.Guarantees.Keys.Concat(quota.Limits.Keys))
                {
                    index.TryAdd(name, index.Count);
                }
            }

            if (index.Count == 0 || cycle.Clients.Count == 0)
            {
                return null;
            }

            var count = index.Count;
            foreach (var (roleName, quota) in input.Quotas)
            {
                var role = cycle.GetOrCreateRole(roleName);
                role.Consumed = new long[count];
                if (!quota.Guarantees.IsEmpty)
                {
                    role.Guarantee = new long[count];
                    foreach (var (name, milli) in quota.Guarantees)
                    {
                        role.Guarantee[index[name]] = milli;
                    }
                }

                if (!quota.Limits.IsEmpty)
                {
                    role.Limit = new long[count];
                    Array.Fill(role.Limit, long.MaxValue);
                    foreach (var (name, milli) in quota.Limits)
                    {
                        role.Limit[index[name]] = milli;
                    }
                }
            }

            var state = Account(input, cycle, index);
            return state;
        }

        private static QuotaState Account(AllocationInput input, Cycle cycle, Dictionary<string, int> index)
        {
            var count = index.Count;
            var available = new long[count];
            foreach (var framework in input.Frameworks)
            {
                for (var ri = 0; ri < framework.Allocated.Count; ri++)
                {
                    var resource = framework.Allocated[ri];
                    if (resource.Type != ResourceType.Scalar || !index.TryGetValue(resource.Name, out var k))
                    {
                        continue;
                    }

                    var owner = resource.IsReserved ? resource.Role : Cycle.AllocationRoleOf(framework, resource);
                    if (owner is not null)
                    {
                        _ = AddConsumed(cycle.GetOrCreateRole(owner), k, resource.ScalarMilli);
                    }
                }
            }

            foreach (var agent in input.Agents)
            {
                for (var ri = 0; ri < agent.Available.Count; ri++)
                {
                    var resource = agent.Available[ri];
                    if (resource.Type != ResourceType.Scalar || !index.TryGetValue(resource.Name, out var k))
                    {
                        continue;
                    }

                    if (resource.IsReserved)
                    {
                        _ = AddConsumed(cycle.GetOrCreateRole(resource.Role), k, resource.ScalarMilli);
                    }
                    else
                    {
                        available[k] += resource.ScalarMilli;
                    }
                }
            }

            // Every role now exists: paths, and the roles the headroom is computed over.
            var guaranteeRoles = new List<RoleState>();
            var clientRoles = new List<RoleState>();
            foreach (var role in cycle.AllRoles)
            {
                role.Need = new long[count];
                role.ChildNeedSum = new long[count];
                if (role.Guarantee is not null)
                {
                    for (var r = role; r is not null && !r.GuaranteeRelevant; r = r.Parent)
                    {
                        r.GuaranteeRelevant = true;
                    }
                }
            }

            foreach (var role in cycle.AllRoles)
            {
                if (role.GuaranteeRelevant)
                {
                    guaranteeRoles.Add(role);
                }

                if (role.Clients.Count == 0)
                {
                    continue;
                }

                var limits = new List<RoleState>();
                role.GuaranteedOnPath = new bool[count];
                for (var r = role; r is not null; r = r.Parent)
                {
                    if (r.Limit is not null)
                    {
                        limits.Add(r);
                    }

                    if (r.Guarantee is not null)
                    {
                        role.PathHasGuarantee = true;
                        for (var k = 0; k < count; k++)
                        {
                            role.GuaranteedOnPath[k] |= r.Guarantee[k] > 0;
                        }
                    }
                }

                role.LimitPath = [.. limits];
                role.Guaranteed = new long[count];
                clientRoles.Add(role);
            }

            guaranteeRoles.Sort((a, b) => Depth(b.Name).CompareTo(Depth(a.Name)));
            var state = new QuotaState(index, [.. guaranteeRoles], [.. clientRoles]);
            Array.Copy(available, state._available, count);
            return state;
        }

        private static int Depth(string role) => role.AsSpan().Count('/');

        /// <summary>Adds to the consumption of the role and its ancestors; true when one of them has a guarantee.</summary>
        private static bool AddConsumed(RoleState role, int k, long milli)
        {
            var guaranteed = false;
            for (var r = role; r is not null; r = r.Parent)
            {
                if (r.Consumed is not null)
                {
                    r.Consumed[k] += milli;
                    guaranteed |= r.Guarantee is not null;
                }
            }

            return guaranteed;
        }

        /// <summary>Recomputes what each role needs and may take, after consumption changed.</summary>
        public void Refresh()
        {
            if (!_dirty)
            {
                return;
            }

            _dirty = false;
            var count = _required.Length;
            Array.Clear(_required);
            foreach (var role in _guaranteeRolesDeepestFirst)
            {
                Array.Clear(role.ChildNeedSum);
            }

            foreach (var role in _guaranteeRolesDeepestFirst)
            {
                for (var k = 0; k < count; k++)
                {
                    var unsatisfied = role.Guarantee is null ? 0 : Math.Max(0, role.Guarantee[k] - role.Consumed![k]);
                    var need = Math.Max(unsatisfied, role.ChildNeedSum[k]);
                    role.Need[k] = need;
                    if (role.Parent is null)
                    {
                        _required[k] += need;
                    }
                    else
                    {
                        role.Parent.ChildNeedSum[k] += need;
                    }
                }
            }

            _requiredIsZero = Array.TrueForAll(_required, r => r == 0);
            AnyStage1 = false;
            foreach (var role in _clientRoles)
            {
                role.Stage1Eligible = false;
                Array.Clear(role.Guaranteed);
                if (!role.PathHasGuarantee || _requiredIsZero)
                {
                    continue;
                }

                for (var k = 0; k < count; k++)
                {
                    // The top-level role's need if every role on the path had its own guarantee met: what is left
                    // is what the other roles need, so the difference is what this role can use toward guarantees.
                    var needWithoutPath = role.ChildNeedSum[k];
                    var node = role;
                    while (node.Parent is not null)
                    {
                        needWithoutPath = node.Parent.ChildNeedSum[k] - node.Need[k] + needWithoutPath;
                        node = node.Parent;
                    }

                    role.Guaranteed[k] = node.Need[k] - needWithoutPath;
                    role.Stage1Eligible |= role.Guaranteed[k] > 0;
                }

                AnyStage1 |= role.Stage1Eligible;
            }

            foreach (var role in _clientRoles)
            {
                var holder = role.Holder!;
                holder.Stage1 = role.Stage1Eligible;
                for (var n = holder.Parent; n is not null; n = n.Parent)
                {
                    n.Stage1 = false;
                }
            }

            foreach (var role in _clientRoles)
            {
                if (role.Stage1Eligible)
                {
                    for (var n = role.Holder!.Parent; n is not null; n = n.Parent)
                    {
                        n.Stage1 = true;
                    }
                }
            }
        }

        /// <summary>
        /// The part of <paramref name="candidate"/> (already only what <paramref name="role"/> may take) that quota lets
        /// it have: unreserved scalars chopped to the limits of the role and its ancestors and to what the headroom can
        /// spare, or in stage 1 guaranteed scalars chopped to what the role still misses. Reserved and non-scalar
        /// resources are never chopped. <paramref name="progress"/>: some guaranteed resource is in it.
        /// </summary>
        public Resources Chop(RoleState role, Resources candidate, bool stage1)
        {
            var allow = new long[_required.Length];
            if (!Plan(role, candidate, stage1, allow, out _))
            {
                return candidate;
            }

            var kept = new List<Resource>(candidate.Count);
            for (var ri = 0; ri < candidate.Count; ri++)
            {
                var resource = candidate[ri];
                if (!resource.IsReserved && resource.Type == ResourceType.Scalar && _index.TryGetValue(resource.Name, out var k))
                {
                    var take = Math.Min(resource.ScalarMilli, allow[k]);
                    allow[k] -= take;
                    if (take == resource.ScalarMilli)
                    {
                        kept.Add(resource);
                    }
                    else if (take > 0)
                    {
                        kept.Add(Resource.ScalarMilliOf(resource.Name, take));
                    }
                }
                else
                {
                    kept.Add(resource);
                }
            }

            return new Resources(kept);
        }

        /// <summary>The quota resource index of <paramref name="name"/>, or -1.</summary>
        public int IndexOf(string name) => _index.TryGetValue(name, out var k) ? k : -1;

        public int Count => _required.Length;

        /// <summary>
        /// Fills <paramref name="allow"/> with what <paramref name="role"/> may be given of each quota resource and says
        /// whether <paramref name="candidate"/> has to be chopped to it (see <see cref="Chop"/>).
        /// </summary>
        public bool Plan(RoleState role, Resources candidate, bool stage1, long[] allow, out bool progress)
        {
            progress = false;
            if (!stage1 && _requiredIsZero && role.LimitPath.Length == 0)
            {
                Array.Fill(allow, long.MaxValue);
                return false;
            }

            Allowances(role, stage1, allow);
            Span<long> left = allow.Length <= 32 ? stackalloc long[allow.Length] : new long[allow.Length];
            allow.CopyTo(left);
            var chop = false;
            for (var ri = 0; ri < candidate.Count; ri++)
            {
                var resource = candidate[ri];
                if (!resource.IsReserved && resource.Type == ResourceType.Scalar && _index.TryGetValue(resource.Name, out var k))
                {
                    var take = Math.Min(resource.ScalarMilli, left[k]);
                    chop |= take < resource.ScalarMilli;
                    progress |= take > 0 && role.GuaranteedOnPath.Length > 0 && role.GuaranteedOnPath[k];
                    left[k] -= take;
                }
            }

            return chop;
        }

        /// <summary>How much of each quota resource <paramref name="role"/> may be given now, unreserved.</summary>
        private void Allowances(RoleState role, bool stage1, long[] allow)
        {
            for (var k = 0; k < allow.Length; k++)
            {
                var limit = long.MaxValue;
                foreach (var bound in role.LimitPath)
                {
                    limit = Math.Min(limit, Math.Max(0, bound.Limit![k] - bound.Consumed![k]));
                }

                var guaranteed = role.Guaranteed.Length > 0 ? role.Guaranteed[k] : 0;
                var spare = Math.Max(0, _available[k] - _required[k]);

                // Stage 1 gives a guaranteed resource only toward the guarantee; anything else only out of the spare.
                var headroom = stage1 && role.GuaranteedOnPath.Length > 0 && role.GuaranteedOnPath[k] ? guaranteed : spare + guaranteed;
                allow[k] = Math.Min(limit, headroom);
            }
        }

        /// <summary>Charges an offer's unreserved quota scalars to the role's path and to the headroom.</summary>
        public void Consume(RoleState role, Resources offer)
        {
            for (var ri = 0; ri < offer.Count; ri++)
            {
                var resource = offer[ri];
                if (!resource.IsReserved && resource.Type == ResourceType.Scalar && _index.TryGetValue(resource.Name, out var k)
                    && resource.ScalarMilli > 0)
                {
                    // Limits and the spare headroom are read as they are; only guarantees need the tree recomputed.
                    _dirty |= AddConsumed(role, k, resource.ScalarMilli) && !_requiredIsZero;
                    _available[k] -= resource.ScalarMilli;
                }
            }
        }
    }
}
