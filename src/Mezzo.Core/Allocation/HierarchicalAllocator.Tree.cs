using Mezzo.Core.Resources;

namespace Mezzo.Core.Allocation;

using Resources = Mezzo.Core.Resources.Resources;

public sealed partial class HierarchicalAllocator
{
    /// <summary>The resources dominant shares are computed over, in the order of the <c>long[]</c> allocations.</summary>
    private static readonly string[] ShareNames = ["cpus", "mem", "disk", "gpus"];

    private static int ShareIndex(string name) => name switch
    {
        "cpus" => 0,
        "mem" => 1,
        "disk" => 2,
        "gpus" => 3,
        _ => -1,
    };

    /// <summary>One role of the tree (also roles that only hold allocations or reservations, for their ancestors' sums).</summary>
    private sealed class RoleState(string name, RoleState? parent)
    {
        public string Name { get; } = name;

        public RoleState? Parent { get; } = parent;

        public List<RoleState> Children { get; } = [];

        public List<ClientState> Clients { get; } = [];

        /// <summary>Allocation of the role and its subtree (thousandths, <see cref="ShareNames"/> order).</summary>
        public long[] Subtree { get; } = new long[ShareNames.Length];

        /// <summary>Allocation of the role itself (what its virtual leaf holds).</summary>
        public long[] Exact { get; } = new long[ShareNames.Length];

        public double Weight { get; set; } = 1;

        public bool HasClientsBelow { get; set; }

        /// <summary>The role's node among its siblings; null when no client is in its subtree.</summary>
        public SortNode? Node { get; set; }

        /// <summary>The node whose children are this role's own clients: <see cref="Node"/> or a virtual leaf.</summary>
        public SortNode? Holder { get; set; }

        // What this role would be offered of the agent's remaining pool, worked out once per pool state.
        public long CandidateStamp { get; set; } = -1;

        public Resources? Candidate { get; set; }

        public bool CandidateMeetsGlobalMinimum { get; set; }

        public long[] CandidateQuantities { get; set; } = [];

        /// <summary>Quota has to chop <see cref="Candidate"/> to <see cref="CandidateAllow"/> before it is offered:
        /// done only once a client may take it, as most chopped candidates (a role at its limit) are too small.</summary>
        public bool CandidateNeedsChop { get; set; }

        public long[] CandidateAllow { get; set; } = [];

        public bool AnyClientHasOwnMinimum { get; set; }

        // Quota (arrays indexed like QuotaState.Names; null when the role has none of it).
        public long[]? Guarantee { get; set; }

        public long[]? Limit { get; set; }

        public long[]? Consumed { get; set; }

        public long[] Need { get; set; } = [];

        public long[] ChildNeedSum { get; set; } = [];

        /// <summary>How much of each quota resource given to this role goes toward some guarantee (1:1 off the headroom).</summary>
        public long[] Guaranteed { get; set; } = [];

        public bool GuaranteeRelevant { get; set; }

        public RoleState[] LimitPath { get; set; } = [];

        public bool[] GuaranteedOnPath { get; set; } = [];

        public bool PathHasGuarantee { get; set; }

        public bool Stage1Eligible { get; set; }
    }

    /// <summary>A (framework, role) pair: what the sorter orders inside a role.</summary>
    private sealed class ClientState(AllocatorFramework framework, RoleState role, int index)
    {
        public AllocatorFramework Framework { get; } = framework;

        public RoleState Role { get; } = role;

        public int Index { get; } = index;

        public long[] Alloc { get; } = new long[ShareNames.Length];

        public SortNode Node { get; set; } = null!;

        public RoleOfferConstraints? Constraints { get; set; }

        /// <summary>The framework's own min_allocatable_resources for this role; null: the cluster's.</summary>
        public MinRequirement[][]? Minimum { get; set; }

        public bool FiltersReady { get; set; }

        public string[] FilterAgents { get; set; } = [];

        public Resources[] FilterRefused { get; set; } = [];

        public HashSet<string>? FilterAgentSet { get; set; }
    }

    private readonly record struct MinRequirement(int Name, long Milli);

    private readonly record struct Rank(double Share, int Tie) : IComparable<Rank>
    {
        public int CompareTo(Rank other) => Share != other.Share ? Share.CompareTo(other.Share) : Tie.CompareTo(other.Tie);
    }

    /// <summary>A node of the sort tree: a role, a role's virtual leaf, or a client. Children are kept sorted.</summary>
    private sealed class SortNode(string key, long[] alloc, double weight)
    {
        public string Key { get; } = key;

        public long[] Alloc { get; } = alloc;

        public double Weight { get; } = weight;

        public int Tie { get; set; }

        public double Share { get; set; }

        public SortNode? Parent { get; set; }

        public SortNode[] Children { get; set; } = [];

        public int ChildCount { get; set; }

        /// <summary>The role of a role node or virtual leaf, and of a client.</summary>
        public RoleState? Role { get; set; }

        public bool HoldsClients { get; set; }

        /// <summary>A holder's clients by (share, tie): a role may have a thousand frameworks, and the one that takes an
        /// agent moves far back, so a heap beats shifting a sorted array. Clients taken out for an agent are put back by
        /// the cycle.</summary>
        public PriorityQueue<SortNode, Rank>? Clients { get; set; }

        public bool IsVirtual { get; set; }

        public ClientState? Client { get; set; }

        public long DirtyStamp { get; set; } = -1;

        public bool Stage1 { get; set; }

        public void Add(SortNode child)
        {
            if (ChildCount == Children.Length)
            {
                var grown = new SortNode[Math.Max(4, ChildCount * 2)];
                Array.Copy(Children, grown, ChildCount);
                Children = grown;
            }

            child.Parent = this;
            Children[ChildCount++] = child;
        }

        public void ComputeShare(double[] totals) => Share = CurrentShare(totals);

        /// <summary>Dominant share / weight of the current allocation (<see cref="Share"/> is what the order is by).</summary>
        public double CurrentShare(double[] totals)
        {
            var share = 0.0;
            for (var i = 0; i < totals.Length; i++)
            {
                if (totals[i] > 0)
                {
                    share = Math.Max(share, Alloc[i] / 1000.0 / totals[i]);
                }
            }

            return share / Weight;
        }

        /// <summary>Ties (equal names are impossible among siblings) by key, then sorts by (share, tie).</summary>
        public void SortChildren()
        {
            Array.Sort(Children, 0, ChildCount, KeyComparer.Instance);
            for (var i = 0; i < ChildCount; i++)
            {
                Children[i].Tie = i;
            }

            Array.Sort(Children, 0, ChildCount, RankComparer.Instance);
        }

        /// <summary>Gives <paramref name="child"/> its new share and moves it to its place for it.</summary>
        public void Reposition(SortNode child, double share)
        {
            var children = Children;
            var index = Find(child.Share, child.Tie);
            if (index < 0 || !ReferenceEquals(children[index], child))
            {
                throw new InvalidOperationException("sort tree out of order");
            }

            child.Share = share;
            if (Precedes(child, index + 1))
            {
                // Moved back (or not at all): find the first earlier sibling it now precedes.
                var to = index;
                var lo = 0;
                var hi = index - 1;
                while (lo <= hi)
                {
                    var mid = (lo + hi) >>> 1;
                    if (Less(child, children[mid]))
                    {
                        to = mid;
                        hi = mid - 1;
                    }
                    else
                    {
                        lo = mid + 1;
                    }
                }

                if (to < index)
                {
                    Array.Copy(children, to, children, to + 1, index - to);
                    children[to] = child;
                }
            }
            else
            {
                // Moved forward: the last later sibling it no longer precedes.
                var to = index;
                var lo = index + 1;
                var hi = ChildCount - 1;
                while (lo <= hi)
                {
                    var mid = (lo + hi) >>> 1;
                    if (Less(children[mid], child))
                    {
                        to = mid;
                        lo = mid + 1;
                    }
                    else
                    {
                        hi = mid - 1;
                    }
                }

                Array.Copy(children, index + 1, children, index, to - index);
                children[to] = child;
            }
        }

        private bool Precedes(SortNode child, int index) => index >= ChildCount || Less(child, Children[index]);

        private int Find(double share, int tie)
        {
            var lo = 0;
            var hi = ChildCount - 1;
            while (lo <= hi)
            {
                var mid = (lo + hi) >>> 1;
                var node = Children[mid];
                var cmp = node.Share != share ? node.Share.CompareTo(share) : node.Tie.CompareTo(tie);
                if (cmp == 0)
                {
                    return mid;
                }

                if (cmp < 0)
                {
                    lo = mid + 1;
                }
                else
                {
                    hi = mid - 1;
                }
            }

            return -1;
        }

        private static bool Less(SortNode a, SortNode b) => a.Share < b.Share || (a.Share == b.Share && a.Tie < b.Tie);

        private sealed class KeyComparer : IComparer<SortNode>
        {
            public static readonly KeyComparer Instance = new();

            public int Compare(SortNode? x, SortNode? y) => string.CompareOrdinal(x!.Key, y!.Key);
        }

        private sealed class RankComparer : IComparer<SortNode>
        {
            public static readonly RankComparer Instance = new();

            public int Compare(SortNode? x, SortNode? y) =>
                x!.Share != y!.Share ? x.Share.CompareTo(y.Share) : x.Tie.CompareTo(y.Tie);
        }
    }
}
