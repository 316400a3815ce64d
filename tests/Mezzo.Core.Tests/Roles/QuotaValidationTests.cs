using AwesomeAssertions;
using Mezzo.Core.Resources;
using Mezzo.Core.Roles;
using Xunit;

namespace Mezzo.Core.Tests.Roles;

public sealed class QuotaValidationTests
{
    private static readonly ResourceQuantities Cluster = ResourceQuantities.Parse("cpus:10;mem:10240");
    private static readonly Dictionary<string, ResourceQuantities> NothingConsumed = [];

    [Fact]
    public void Config_is_built_from_amounts()
    {
        var (config, error) = QuotaValidation.Create("dev", Amounts("cpus", 1.5), Amounts("cpus", 2, "mem", 1024));
        error.Should().BeNull();
        config!.Guarantees.Should().BeEquivalentTo(ResourceQuantities.Parse("cpus:1.5"));
        config.Limits.Should().BeEquivalentTo(ResourceQuantities.Parse("cpus:2;mem:1024"));
    }

    [Theory]
    [InlineData("*", "setting quota for the default '*' role is not supported")]
    [InlineData("a//b", "Invalid 'QuotaConfig.role' 'a//b'")]
    [InlineData("-x", "Invalid 'QuotaConfig.role' '-x'")]
    [InlineData("..", "Invalid 'QuotaConfig.role' '..'")]
    [InlineData("", "Invalid 'QuotaConfig.role' ''")]
    public void Bad_roles_are_refused(string role, string message) =>
        QuotaValidation.Create(role, null, null).Error.Should().Contain(message);

    [Theory]
    [InlineData("cpus", -1.0, "{'cpus': -1} for role 'dev': values must be finite and non-negative")]
    [InlineData("cpus", double.NaN, "{'cpus': NaN} for role 'dev'")]
    [InlineData("cpus", double.PositiveInfinity, "values must be finite")]
    [InlineData("cpus", 2e12, "values greater than 1000000000000 are not supported")]
    [InlineData("mem", 2e12, "values greater than 1099511627776 are not supported")]
    [InlineData("ports", 10.0, "only scalar resources can have quota")]
    [InlineData("bad name", 1.0, "contains invalid characters")]
    public void Bad_amounts_name_role_and_resource(string name, double value, string message)
    {
        QuotaValidation.Create("dev", Amounts(name, value), null).Error.Should().Contain("guarantee").And.Contain(message);
        QuotaValidation.Create("dev", null, Amounts(name, value)).Error.Should().Contain("limit").And.Contain(message);
    }

    [Fact]
    public void Missing_value_is_refused_and_a_zero_limit_is_kept_as_a_limit()
    {
        QuotaValidation.Create("dev", [KeyValuePair.Create("cpus", (double?)null)], null).Error.Should().Contain("{'cpus'} for role 'dev': missing 'value'");
        var zero = QuotaValidation.Create("dev", null, Amounts("cpus", 0));
        zero.Error.Should().BeNull();
        zero.Config!.Limits.ContainsKey("cpus").Should().BeTrue("a limit of 0 means none, not unlimited");
        QuotaValidation.Create("dev", Amounts("cpus", 0), null).Error.Should().BeNull("a zero guarantee is no guarantee");
    }

    [Fact]
    public void Guarantee_must_not_exceed_limit()
    {
        QuotaValidation.Create("dev", Amounts("cpus", 3), Amounts("cpus", 2)).Error
            .Should().Be("Role 'dev': guarantee cpus:3 is above its limit cpus:2");
        QuotaValidation.Create("dev", Amounts("cpus", 3, "mem", 10), Amounts("cpus", 3)).Error.Should().BeNull("mem has no limit");
    }

    [Fact]
    public void Parent_guarantees_must_cover_the_sum_of_the_childrens()
    {
        var current = Quotas(Config("eng", "cpus:4", ""), Config("eng/a", "cpus:2", ""));
        Update(current, Config("eng/b", "cpus:2", "")).Violation.Should().BeNull();

        var violation = Update(current, Config("eng/b", "cpus:3", "")).Violation!;
        violation.Kind.Should().Be(QuotaViolationKind.Invalid);
        violation.Message.Should().Contain("parent role 'eng' with guarantees (cpus:4) does not contain the sum of its children's guarantees (cpus:5)");
    }

    [Fact]
    public void A_role_without_quota_guarantees_nothing_to_its_children()
    {
        var violation = Update(Quotas(), Config("eng/a", "cpus:1", "")).Violation!;
        violation.Message.Should().Contain("parent role 'eng' with guarantees (none)");
        Update(Quotas(), Config("eng/a", "", "cpus:1")).Violation.Should().BeNull("limits need no parent");

        var deep = Update(Quotas(Config("eng", "cpus:2", "")), Config("eng/a/b", "cpus:1", "")).Violation!;
        deep.Message.Should().Contain("parent role 'eng/a' with guarantees (none)");
    }

    [Fact]
    public void Child_limit_must_not_exceed_an_ancestors_limit()
    {
        var current = Quotas(Config("eng", "", "cpus:4;mem:1024"));
        Update(current, Config("eng/a", "", "cpus:4")).Violation.Should().BeNull();
        Update(current, Config("eng/a", "", "gpus:1")).Violation.Should().BeNull("the parent does not limit gpus");

        var violation = Update(current, Config("eng/a/b", "", "mem:2048")).Violation!;
        violation.Kind.Should().Be(QuotaViolationKind.Invalid);
        violation.Message.Should().Contain("role 'eng/a/b' has limit mem:2048 above the limit mem:1024 of its ancestor 'eng'");

        // Lowering the parent below an existing child's limit is refused the same way.
        Update(Quotas(Config("eng", "", "cpus:4"), Config("eng/a", "", "cpus:3")), Config("eng", "", "cpus:2")).Violation!
            .Message.Should().Contain("role 'eng/a' has limit cpus:3 above the limit cpus:2");
    }

    [Fact]
    public void Guarantees_beyond_capacity_need_force()
    {
        var current = Quotas(Config("a", "cpus:6", ""));
        var violation = Update(current, Config("b", "cpus:5", "")).Violation!;
        violation.Kind.Should().Be(QuotaViolationKind.ExceedsCapacity);
        violation.Message.Should().Contain("Total quota guarantees (cpus:11) exceed the cluster capacity (cpus:10; mem:10240)");

        var (forced, none) = Update(current, force: true, Config("b", "cpus:5", ""));
        none.Should().BeNull();
        forced!.Keys.Should().BeEquivalentTo(["a", "b"]);
    }

    [Fact]
    public void Children_are_not_counted_twice_against_capacity()
    {
        var current = Quotas(Config("eng", "cpus:10", ""), Config("eng/a", "cpus:6", ""));
        Update(current, Config("eng/b", "cpus:4", "")).Violation.Should().BeNull();
        QuotaValidation.TotalGuarantees(current).Should().BeEquivalentTo(ResourceQuantities.Parse("cpus:10"));
    }

    [Fact]
    public void Limit_below_consumption_needs_force()
    {
        var consumed = new Dictionary<string, ResourceQuantities> { ["dev"] = ResourceQuantities.Parse("cpus:3") };
        var update = new[] { Config("dev", "", "cpus:2") };
        var violation = QuotaValidation.ValidateUpdate(Quotas(), update, Cluster, consumed, force: false).Violation!;
        violation.Kind.Should().Be(QuotaViolationKind.BelowConsumption);
        violation.Message.Should().Contain("Role 'dev' is already consuming cpus:3, more than the requested limit cpus:2");
        QuotaValidation.ValidateUpdate(Quotas(), update, Cluster, consumed, force: true).Violation.Should().BeNull();
    }

    [Fact]
    public void Default_config_removes_quota_and_duplicates_are_refused()
    {
        var current = Quotas(Config("dev", "cpus:1", "cpus:2"));
        var (result, violation) = Update(current, Config("dev", "", ""));
        violation.Should().BeNull();
        result.Should().BeEmpty();

        Update(current, Config("qa", "", "cpus:1"), Config("qa", "", "cpus:2")).Violation!.Message
            .Should().Contain("Role 'qa' appears more than once");
    }

    [Fact]
    public void A_bad_update_leaves_the_current_set_untouched()
    {
        var current = Quotas(Config("dev", "cpus:1", ""));
        Update(current, Config("ok", "", "cpus:1"), Config("x/y", "cpus:1", "")).Violation.Should().NotBeNull();
        current.Keys.Should().BeEquivalentTo(["dev"]);
    }

    private static (IReadOnlyDictionary<string, QuotaConfig>? Quotas, QuotaViolation? Violation) Update(
        IReadOnlyDictionary<string, QuotaConfig> current, params QuotaConfig[] updates) =>
        Update(current, false, updates);

    private static (IReadOnlyDictionary<string, QuotaConfig>? Quotas, QuotaViolation? Violation) Update(
        IReadOnlyDictionary<string, QuotaConfig> current, bool force, params QuotaConfig[] updates) =>
        QuotaValidation.ValidateUpdate(current, updates, Cluster, NothingConsumed, force);

    private static Dictionary<string, QuotaConfig> Quotas(params QuotaConfig[] configs) =>
        configs.ToDictionary(c => c.Role, StringComparer.Ordinal);

    private static QuotaConfig Config(string role, string guarantees, string limits) =>
        new(role, ResourceQuantities.Parse(guarantees), ResourceQuantities.Parse(limits));

    private static List<KeyValuePair<string, double?>> Amounts(params object[] pairs) =>
        [.. pairs.Chunk(2).Select(p => KeyValuePair.Create((string)p[0], (double?)Convert.ToDouble(p[1], System.Globalization.CultureInfo.InvariantCulture)))];
}
