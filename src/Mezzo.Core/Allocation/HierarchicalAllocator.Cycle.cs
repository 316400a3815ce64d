using Mezzo.Core.Resources;
using Mezzo.Core.Roles;

namespace Mezzo.Core.Allocation;

using Resources = Mezzo.Core.Resources.Resources;

public sealed partial class HierarchicalAllocator
{
    /// <summary>The state of one <see cref="Allocate"/> call: built from the input, used once, dropped.</summary>
    private sealed class Cycle
    {
        // Mesos's allocator keeps a framework's offer filters by agent; the input has them as a list. Past a few filters,
        // the agents a client has filters for go in a set so the other agents skip the scan.
        private const int FilterSetThreshold = 8;

        private readonly AllocationInput _input;
        private readonly double[] _totals = new double[ShareNames.Length];
        private readonly Dictionary<string, RoleState> _roles = new(StringComparer.Ordinal);
        private readonly List<ClientState> _clients = [];
        private readonly SortNode _root = new("", new long[ShareNames.Length], 1);
        private readonly List<OfferDecision> _decisions = [];
        private readonly QuotaState? _quota;

        // min_allocatable_resources: the names any set in use mentions, the cluster's sets, and whether some list in use
        // lets any non-empty offer through (then an agent is only skipped when it is empty).
        private readonly List<string> _minNames = [];
        private readonly MinRequirement[][] _globalMinimum;
        private readonly List<MinRequirement[][]> _minimaInUse = [];
        private readonly bool _anyNonEmptyIsAllocatable;
        private readonly long[] _poolQuantities;

        // The agent being allocated and what is left of it.
        private AllocatorAgent _agent = null!;
        private int _agentIndex;
        private Resources _remaining = Resources.Empty;
        private long _stamp;
        private bool _remainingHasUnreserved;
        private bool _remainingHasReserved;
        private readonly List<string> _remainingReservationRoles = [];
        private bool _agentDone;
        private long _visit;
        private bool _stage1;
        private readonly List<SortNode> _dirty = [];
        private readonly List<SortNode> _skipped = [];

        // Stage 1 offers by (client, agent), to merge stage 2 offers into, and what stage 1 left of the agents it touched.
        private Dictionary<(int Client, int Agent), int>? _stage1Offers;
        private Dictionary<int, Resources>? _afterStage1;

        public Cycle(AllocationInput input)
        {
            _input = input;
            for (var i = 0; i < ShareNames.Length; i++)
            {
                _totals[i] = input.ClusterTotals.TryGetValue(ShareNames[i], out var total) && double.IsFinite(total) ? total : 0;
            }

            _globalMinimum = CompileMinimum(input.MinAllocatable);
            var anyNonEmpty = false;
            var frameworkClients = new List<ClientState>();
            foreach (var framework in input.Frameworks)
            {
                frameworkClients.Clear();
                foreach (var roleName in framework.Roles)
                {
                    if (framework.SuppressedRoles.Contains(roleName) || frameworkClients.Exists(c => c.Role.Name == roleName))
                    {
                        continue;
                    }

                    var role = GetOrCreateRole(roleName);
                    var client = new ClientState(framework, role, _clients.Count)
                    {
                        Constraints = framework.Constraints.TryGetValue(roleName, out var constraints) ? constraints : null,
                        Minimum = framework.MinAllocatable.TryGetValue(roleName, out var minimum) ? CompileMinimum(minimum) : null,
                    };
                    _clients.Add(client);
                    role.Clients.Add(client);
                    frameworkClients.Add(client);
                    var minimumInUse = client.Minimum ?? _globalMinimum;
                    anyNonEmpty |= minimumInUse.Length == 0 || Array.Exists(minimumInUse, set => set.Length == 0);
                    if (client.Minimum is not null)
                    {
                        _minimaInUse.Add(client.Minimum);
                        role.AnyClientHasOwnMinimum = true;
                    }
                }

                AddAllocations(framework, frameworkClients);
            }

            if (_clients.Count > 0)
            {
                _minimaInUse.Add(_globalMinimum);
                anyNonEmpty |= _globalMinimum.Length == 0 || Array.Exists(_globalMinimum, set => set.Length == 0);
            }

            _anyNonEmptyIsAllocatable = anyNonEmpty;
            _poolQuantities = new long[_minNames.Count];
            _quota = QuotaState.Create(input, this);
            BuildSortTree();
        }

        public List<OfferDecision> Run()
        {
            if (_clients.Count == 0 || _input.Agents.Count == 0)
            {
                return _decisions;
            }

            var agents = _input.Agents;
            if (_quota is not null)
            {
                _stage1 = true;
                _stage1Offers = [];
                _afterStage1 = [];
                for (var i = 0; i < agents.Count; i++)
                {
                    _quota.Refresh();
                    if (!_quota.AnyStage1)
                    {
                        break;
                    }

                    if (Begin(i, agents[i].Available))
                    {
                        var before = _remaining;
                        Walk(_root);
                        if (!ReferenceEquals(before, _remaining))
                        {
                            _afterStage1[i] = _remaining;
                        }

                        ApplyShares();
                    }
                }

                _stage1 = false;
            }

            for (var i = 0; i < agents.Count; i++)
            {
                var pool = _afterStage1 is not null && _afterStage1.TryGetValue(i, out var left) ? left : agents[i].Available;
                if (Begin(i, pool))
                {
                    Walk(_root);
                    ApplyShares();
                }
            }

            return _decisions;
        }

        public RoleState GetOrCreateRole(string name)
        {
            if (_roles.TryGetValue(name, out var role))
            {
                return role;
            }

            var slash = name.LastIndexOf('/');
            var parent = slash < 0 ? null : GetOrCreateRole(name[..slash]);
            role = new RoleState(name, parent)
            {
                Weight = _input.Weights.TryGetValue(name, out var weight) && double.IsFinite(weight) && weight > 0 ? weight : 1,
            };
            parent?.Children.Add(role);
            _roles[name] = role;
            return role;
        }

        public IEnumerable<RoleState> AllRoles => _roles.Values;

        public IReadOnlyList<ClientState> Clients => _clients;

        /// <summary>The role a framework's allocated resource counts toward: its allocation role, else (a resource the
        /// master did not mark) the framework's first role, as for a non-MULTI_ROLE framework in Mesos.</summary>
        public static string? AllocationRoleOf(AllocatorFramework framework, Resource resource) =>
            resource.AllocationRole ?? (framework.Roles.Count > 0 ? framework.Roles[0] : null);

        private void AddAllocations(AllocatorFramework framework, List<ClientState> frameworkClients)
        {
            for (var ri = 0; ri < framework.Allocated.Count; ri++)
            {
                var resource = framework.Allocated[ri];
                var index = resource.Type == ResourceType.Scalar ? ShareIndex(resource.Name) : -1;
                if (index < 0 || AllocationRoleOf(framework, resource) is not { } roleName)
                {
                    continue;
                }

                var role = GetOrCreateRole(roleName);
                role.Exact[index] += resource.ScalarMilli;
                for (var r = role; r is not null; r = r.Parent)
                {
                    r.Subtree[index] += resource.ScalarMilli;
                }

                foreach (var client in frameworkClients)
                {
                    if (client.Role == role)
                    {
                        client.Alloc[index] += resource.ScalarMilli;
                    }
                }
            }
        }

        private void BuildSortTree()
        {
            foreach (var client in _clients)
            {
                for (var r = client.Role; r is not null && !r.HasClientsBelow; r = r.Parent)
                {
                    r.HasClientsBelow = true;
                }
            }

            foreach (var role in _roles.Values)
            {
                if (role.Parent is null && role.HasClientsBelow)
                {
                    _root.Add(BuildRoleNode(role));
                }
            }

            _root.SortChildren();
        }

        private SortNode BuildRoleNode(RoleState role)
        {
            var node = new SortNode(role.Name, role.Subtree, role.Weight) { Role = role };
            role.Node = node;
            foreach (var child in role.Children)
            {
                if (child.HasClientsBelow)
                {
                    node.Add(BuildRoleNode(child));
                }
            }

            if (role.Clients.Count > 0)
            {
                var holder = node;
                if (node.ChildCount > 0)
                {
                    // Mesos's sorter: a role with clients that is also an inner node competes with its subroles through
                    // a virtual leaf holding its own allocation (and weighted like the role, the weight is by path).
                    holder = new SortNode(role.Name + "/.", role.Exact, role.Weight) { Role = role, IsVirtual = true };
                    holder.ComputeShare(_totals);
                    node.Add(holder);
                }

                holder.HoldsClients = true;
                role.Holder = holder;
                foreach (var client in role.Clients)
                {
                    var clientNode = new SortNode(client.Framework.FrameworkId, client.Alloc, 1) { Role = role, Client = client };
                    client.Node = clientNode;
                    clientNode.ComputeShare(_totals);
                    holder.Add(clientNode);
                }

                holder.SortChildren();
                holder.Clients = new PriorityQueue<SortNode, Rank>(holder.ChildCount);
                for (var i = 0; i < holder.ChildCount; i++)
                {
                    holder.Clients.Enqueue(holder.Children[i], new Rank(holder.Children[i].Share, holder.Children[i].Tie));
                }
            }

            node.ComputeShare(_totals);
            if (!ReferenceEquals(role.Holder, node))
            {
                node.SortChildren();
            }

            return node;
        }

        /// <summary>Starts an agent with <paramref name="pool"/> left on it; false when nothing on it can be offered.</summary>
        private bool Begin(int index, Resources pool)
        {
            _agent = _input.Agents[index];
            _agentIndex = index;
            _visit++;
            if (pool.IsEmpty)
            {
                return false;
            }

            SetRemaining(pool);
            return !_agentDone;
        }

        private void SetRemaining(Resources remaining)
        {
            _remaining = remaining;
            _stamp++;
            _remainingHasUnreserved = false;
            _remainingHasReserved = false;
            _remainingReservationRoles.Clear();
            for (var ri = 0; ri < remaining.Count; ri++)
            {
                var resource = remaining[ri];
                if (!resource.IsReserved)
                {
                    _remainingHasUnreserved = true;
                }
                else
                {
                    _remainingHasReserved = true;
                    if (!_remainingReservationRoles.Contains(resource.Role))
                    {
                        _remainingReservationRoles.Add(resource.Role);
                    }
                }
            }

            // What a client is offered is a part of the pool, so a pool under every minimum in use can go to no one.
            _agentDone = remaining.IsEmpty || (!_anyNonEmptyIsAllocatable && !MeetsAnyMinimumInUse(remaining));
        }

        private bool MeetsAnyMinimumInUse(Resources pool)
        {
            Quantities(pool, _poolQuantities);
            foreach (var minimum in _minimaInUse)
            {
                if (Meets(minimum, _poolQuantities))
                {
                    return true;
                }
            }

            return false;
        }

        private void Walk(SortNode node)
        {
            var children = node.Children;
            for (var i = 0; i < node.ChildCount && !_agentDone; i++)
            {
                var child = children[i];
                if ((_stage1 && !child.Stage1) || (!_remainingHasUnreserved && !MayTakeReserved(child)))
                {
                    continue;
                }

                // A node holds either clients (a role without subroles with clients, or a virtual leaf) or role nodes.
                if (child.HoldsClients)
                {
                    TryRole(child);
                }
                else
                {
                    Walk(child);
                }
            }
        }

        /// <summary>Whether anything reserved on the agent may go to a role in <paramref name="node"/>'s subtree.</summary>
        private bool MayTakeReserved(SortNode node)
        {
            var role = node.Role!.Name;
            foreach (var reservation in _remainingReservationRoles)
            {
                if (RoleNames.IsSelfOrDescendant(role, reservation)
                    || (!node.HoldsClients && RoleNames.IsSelfOrDescendant(reservation, role)))
                {
                    return true;
                }
            }

            return false;
        }

        private void TryRole(SortNode holder)
        {
            var role = holder.Role!;
            if (!PrepareCandidate(role))
            {
                return;
            }

            var clients = holder.Clients!;
            SortNode? taker = null;
            _skipped.Clear();
            while (clients.TryDequeue(out var node, out _))
            {
                var client = node.Client!;
                if ((client.Constraints is not null && !client.Constraints.Matches(_agent))
                    || !(client.Minimum is null ? role.CandidateMeetsGlobalMinimum : Meets(client.Minimum, role.CandidateQuantities))
                    || IsFiltered(client, Offer(role)))
                {
                    _skipped.Add(node);
                    continue;
                }

                taker = node;
                break;
            }

            foreach (var node in _skipped)
            {
                clients.Enqueue(node, new Rank(node.Share, node.Tie));
            }

            // Whatever the next client of this role could take, this one took. It goes back in line after this agent.
            if (taker is not null)
            {
                Take(taker.Client!, Offer(role));
            }
        }

        /// <summary>Works out what <paramref name="role"/> would be offered of the remaining pool; false when nothing.</summary>
        private bool PrepareCandidate(RoleState role)
        {
            if (role.CandidateStamp == _stamp)
            {
                return role.Candidate is not null;
            }

            role.CandidateStamp = _stamp;
            role.Candidate = null;
            role.CandidateNeedsChop = false;
            var candidate = _remainingHasReserved ? AllocatableTo(_remaining, role.Name) : _remaining;
            if (candidate.IsEmpty)
            {
                return false;
            }

            if (_quota is not null)
            {
                _quota.Refresh();
                if (role.CandidateAllow.Length != _quota.Count)
                {
                    role.CandidateAllow = new long[_quota.Count];
                }

                role.CandidateNeedsChop = _quota.Plan(role, candidate, _stage1, role.CandidateAllow, out var progress);
                if (_stage1 && !progress)
                {
                    return false;
                }
            }

            if (role.CandidateQuantities.Length != _minNames.Count)
            {
                role.CandidateQuantities = new long[_minNames.Count];
            }

            if (!Quantities(candidate, role.CandidateQuantities, role.CandidateNeedsChop ? role.CandidateAllow : null))
            {
                return false;
            }

            role.CandidateMeetsGlobalMinimum = Meets(_globalMinimum, role.CandidateQuantities);
            if (!role.CandidateMeetsGlobalMinimum && !role.AnyClientHasOwnMinimum)
            {
                return false;
            }

            role.Candidate = candidate;
            return true;
        }

        /// <summary>The candidate as it is offered: chopped by quota if it has to be.</summary>
        private Resources Offer(RoleState role)
        {
            if (role.CandidateNeedsChop)
            {
                role.Candidate = _quota!.Chop(role, role.Candidate!, _stage1);
                role.CandidateNeedsChop = false;
            }

            return role.Candidate!;
        }

        private static Resources AllocatableTo(Resources pool, string role)
        {
            List<Resource>? kept = null;
            for (var i = 0; i < pool.Count; i++)
            {
                var resource = pool[i];
                var allocatable = !resource.IsReserved || RoleNames.IsSelfOrDescendant(role, resource.Role);
                if (!allocatable && kept is null)
                {
                    kept = new List<Resource>(pool.Count);
                    for (var j = 0; j < i; j++)
                    {
                        kept.Add(pool[j]);
                    }
                }
                else if (allocatable)
                {
                    kept?.Add(resource);
                }
            }

            return kept is null ? pool : new Resources(kept);
        }

        private void Take(ClientState client, Resources offer)
        {
            var role = client.Role;
            var allocated = offer.AllocateTo(role.Name);
            if (!_stage1 && _stage1Offers is not null && _stage1Offers.TryGetValue((client.Index, _agentIndex), out var earlier))
            {
                var decision = _decisions[earlier];
                _decisions[earlier] = decision with { Resources = decision.Resources.Add(allocated) };
            }
            else
            {
                _stage1Offers?.TryAdd((client.Index, _agentIndex), _decisions.Count);
                _decisions.Add(new OfferDecision(client.Framework.FrameworkId, role.Name, _agent.AgentId, allocated));
            }

            // Shares change now; the order only after this agent (Mesos sorts once per agent).
            var changed = false;
            for (var ri = 0; ri < offer.Count; ri++)
            {
                var resource = offer[ri];
                var index = resource.Type == ResourceType.Scalar ? ShareIndex(resource.Name) : -1;
                if (index >= 0 && resource.ScalarMilli != 0)
                {
                    changed = true;
                    client.Alloc[index] += resource.ScalarMilli;
                    role.Exact[index] += resource.ScalarMilli;
                    for (var r = role; r is not null; r = r.Parent)
                    {
                        r.Subtree[index] += resource.ScalarMilli;
                    }
                }
            }

            MarkDirty(client.Node);
            if (changed)
            {
                MarkDirty(role.Holder!);
                for (var r = role; r is not null; r = r.Parent)
                {
                    MarkDirty(r.Node!);
                }
            }

            _quota?.Consume(role, offer);
            SetRemaining(ReferenceEquals(offer, _remaining) ? Resources.Empty : _remaining.Subtract(offer));
        }

        private void MarkDirty(SortNode node)
        {
            if (node.DirtyStamp != _visit)
            {
                node.DirtyStamp = _visit;
                _dirty.Add(node);
            }
        }

        private void ApplyShares()
        {
            foreach (var node in _dirty)
            {
                var share = node.CurrentShare(_totals);
                if (node.Client is not null)
                {
                    node.Share = share;
                    node.Parent!.Clients!.Enqueue(node, new Rank(share, node.Tie));
                }
                else if (share != node.Share)
                {
                    node.Parent!.Reposition(node, share);
                }
            }

            _dirty.Clear();
        }

        private bool IsFiltered(ClientState client, Resources offer)
        {
            if (!client.FiltersReady)
            {
                PrepareFilters(client);
            }

            var agents = client.FilterAgents;
            if (agents.Length == 0 || (client.FilterAgentSet is not null && !client.FilterAgentSet.Contains(_agent.AgentId)))
            {
                return false;
            }

            for (var i = 0; i < agents.Length; i++)
            {
                if (agents[i] == _agent.AgentId && client.FilterRefused[i].Contains(offer))
                {
                    return true;
                }
            }

            return false;
        }

        /// <summary>The client's live filters for its role, once per cycle (Mesos's RefusedOfferFilter semantics, see
        /// <see cref="OfferFilter.Filters"/>: the allocation role of the refused resources is ignored).</summary>
        private void PrepareFilters(ClientState client)
        {
            client.FiltersReady = true;
            var filters = client.Framework.Filters;
            if (filters.Count == 0)
            {
                return;
            }

            var agents = new List<string>();
            var refused = new List<Resources>();
            foreach (var filter in filters)
            {
                if (_input.Now < filter.Expires && filter.Role == client.Role.Name)
                {
                    agents.Add(filter.AgentId);
                    refused.Add(filter.Refused.Unallocate());
                }
            }

            client.FilterAgents = [.. agents];
            client.FilterRefused = [.. refused];
            if (agents.Count > FilterSetThreshold)
            {
                client.FilterAgentSet = new HashSet<string>(agents, StringComparer.Ordinal);
            }
        }

        private MinRequirement[][] CompileMinimum(IReadOnlyList<ResourceQuantities> minimum)
        {
            var sets = new MinRequirement[minimum.Count][];
            for (var i = 0; i < minimum.Count; i++)
            {
                var set = new List<MinRequirement>();
                foreach (var (name, milli) in minimum[i])
                {
                    var index = _minNames.IndexOf(name);
                    if (index < 0)
                    {
                        index = _minNames.Count;
                        _minNames.Add(name);
                    }

                    set.Add(new MinRequirement(index, milli));
                }

                sets[i] = [.. set];
            }

            return sets;
        }

        /// <summary>
        /// Mesos's quantities for min_allocatable_resources (scalars by value, ranges and sets by count) of
        /// <paramref name="resources"/>, or of what is left of it once chopped to <paramref name="allow"/>; false when
        /// that is empty.
        /// </summary>
        private bool Quantities(Resources resources, long[] quantities, long[]? allow = null)
        {
            Array.Clear(quantities);
            Span<long> left = allow is null ? [] : allow.Length <= 32 ? stackalloc long[allow.Length] : new long[allow.Length];
            allow?.CopyTo(left);
            var any = false;
            for (var i = 0; i < resources.Count; i++)
            {
                var resource = resources[i];
                var milli = resource.ScalarMilli;
                if (allow is not null && !resource.IsReserved && resource.Type == ResourceType.Scalar && _quota!.IndexOf(resource.Name) is var k and >= 0)
                {
                    milli = Math.Min(milli, left[k]);
                    left[k] -= milli;
                    if (milli == 0)
                    {
                        continue;
                    }
                }

                any = true;
                for (var n = 0; n < quantities.Length; n++)
                {
                    if (resource.Name == _minNames[n])
                    {
                        quantities[n] += resource.Type switch
                        {
                            ResourceType.Scalar => milli,
                            ResourceType.Ranges => (long)Math.Min(resource.Ranges.Size, long.MaxValue / 1000) * 1000,
                            _ => resource.Set.Count * 1000L,
                        };
                    }
                }
            }

            return any;
        }

        /// <summary>Mesos's <c>allocatable()</c> for a non-empty offer: no sets means anything goes, else one set is met.</summary>
        private static bool Meets(MinRequirement[][] minimum, long[] quantities)
        {
            if (minimum.Length == 0)
            {
                return true;
            }

            foreach (var set in minimum)
            {
                var met = true;
                foreach (var requirement in set)
                {
                    if (quantities[requirement.Name] < requirement.Milli)
                    {
                        met = false;
                        break;
                    }
                }

                if (met)
                {
                    return true;
                }
            }

            return false;
        }
    }
}
