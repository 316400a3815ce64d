using NodaTime;

namespace Mezzo.Jobs.Schedules;

/// <summary>
/// Time zone names as Chronos (java.util.TimeZone) resolves them: tz database names, plus the three-letter ids Java
/// still accepts (Chronos's own docs use "PST"), mapped as java.time.ZoneId.SHORT_IDS maps them.
/// </summary>
public static class JavaTimeZones
{
    private static readonly Dictionary<string, string> ShortIds = new(StringComparer.Ordinal)
    {
        ["ACT"] = "Australia/Darwin",
        ["AET"] = "Australia/Sydney",
        ["AGT"] = "America/Argentina/Buenos_Aires",
        ["ART"] = "Africa/Cairo",
        ["AST"] = "America/Anchorage",
        ["BET"] = "America/Sao_Paulo",
        ["BST"] = "Asia/Dhaka",
        ["CAT"] = "Africa/Harare",
        ["CNT"] = "America/St_Johns",
        ["CST"] = "America/Chicago",
        ["CTT"] = "Asia/Shanghai",
        ["EAT"] = "Africa/Addis_Ababa",
        ["ECT"] = "Europe/Paris",
        ["IET"] = "America/Indiana/Indianapolis",
        ["IST"] = "Asia/Kolkata",
        ["JST"] = "Asia/Tokyo",
        ["MIT"] = "Pacific/Apia",
        ["NET"] = "Asia/Yerevan",
        ["NST"] = "Pacific/Auckland",
        ["PLT"] = "Asia/Karachi",
        ["PNT"] = "America/Phoenix",
        ["PRT"] = "America/Puerto_Rico",
        ["PST"] = "America/Los_Angeles",
        ["SST"] = "Pacific/Guadalcanal",
        ["VST"] = "Asia/Ho_Chi_Minh",
    };

    public static DateTimeZone? Find(string name) =>
        DateTimeZoneProviders.Tzdb.GetZoneOrNull(name)
        ?? (ShortIds.TryGetValue(name, out var id) ? DateTimeZoneProviders.Tzdb.GetZoneOrNull(id) : null);
}
