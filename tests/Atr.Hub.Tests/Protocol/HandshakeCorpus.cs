using System.Text;
using Atr.Hub.Tests.Infrastructure;
using Atr.Hub.Tests.Security;

namespace Atr.Hub.Tests.Protocol;

/// <summary>
/// The parity corpus: the valid raw handshake and, one change at a time, what a client, a proxy or
/// an attacker may make of it — each header dropped, duplicated, re-cased, padded, emptied, made
/// invalid or injected with CR, LF, NUL, control or non-ASCII bytes; the request line's method,
/// target forms, dot segments, percent-encoding, version and whitespace; body framing; each of
/// Kestrel's size limits at and one past its edge; and, on the hubs that require a token, the
/// token's ways in and its faults. Every case has a name that says what was done.
/// </summary>
internal static class HandshakeCorpus
{
    /// <summary>The Host both hubs are sent: the same bytes go to each, whatever its port.</summary>
    public const string Host = "hub.example:7777";

    /// <summary>RFC 6455's sample key.</summary>
    public const string Key = "dGhlIHNhbXBsZSBub25jZQ==";

    /// <summary>The Origin the hubs allow.</summary>
    public const string Origin = "http://app.example";

    public const string Path = "/organization/1234";

    /// <summary>The scope of <see cref="Path"/>, which the tokens grant.</summary>
    public const string Scope = "organization.1234";

    // Bytes injected into request lines, names and values: what a parser must not take as text.
    private static readonly (string Name, string Text)[] Injected =
    [
        ("CR", "\r"), ("LF", "\n"), ("CRLF", "\r\n"), ("NUL", "\0"), ("control byte 0x01", "\u0001"), ("DEL", "\u007f"),
        ("non-ASCII byte 0xE9", "\u00e9"), ("byte 0xFF", "\u00ff"), ("space", " "), ("tab", "\t"),
    ];

    /// <summary>The valid handshake, anonymous: the hubs without a key upgrade it to <see cref="Scope"/>.</summary>
    public static HandshakeTemplate Valid(string target = Path) => new(
        $"GET {target} HTTP/1.1",
        [
            $"Host: {Host}",
            "Connection: Upgrade",
            "Upgrade: websocket",
            "Sec-WebSocket-Version: 13",
            $"Sec-WebSocket-Key: {Key}",
            $"Origin: {Origin}",
            "User-Agent: atr-parity",
        ]);

    /// <summary>Every case of the corpus for hubs whose Kestrel limits are <paramref name="limits"/>.</summary>
    public static IReadOnlyList<HandshakeCase> Build(ParityLimits limits)
    {
        var cases = new List<HandshakeCase>();
        var token = TestTokens.Hs256([Scope]);

        // Anonymous hubs: the whole corpus.
        var anonymous = Valid();
        Add(cases, false, "the valid handshake", anonymous);
        foreach (var line in anonymous.Lines)
        {
            var name = line[..line.IndexOf(':', StringComparison.Ordinal)];
            AddHeaderCases(cases, false, anonymous, name);
        }

        AddRequestLineCases(cases, false, Path, string.Empty);
        AddFramingCases(cases, false, anonymous);
        AddLimitCases(cases, false, Path, string.Empty, limits);
        AddIncompleteCases(cases, anonymous);

        // Hubs that require a token: the token's ways in and faults, the request line with a valid
        // token in the query, the Authorization header mutated, and the limits with a token's length.
        var jwt = Valid($"{Path}?access_token={token}");
        Add(cases, true, "the valid handshake, token in the query", jwt);
        AddTokenCases(cases, token);
        AddRequestLineCases(cases, true, Path, $"?access_token={token}");
        AddHeaderCases(cases, true, Valid().Add($"Authorization: Bearer {token}"), "Authorization");
        AddFramingCases(cases, true, jwt);
        AddLimitCases(cases, true, Path, $"?access_token={token}", limits);

        var duplicates = cases.GroupBy(c => (c.Jwt, c.Name)).Where(g => g.Count() > 1).Select(g => g.Key.Name).ToList();
        return duplicates.Count == 0 ? cases : throw new InvalidOperationException($"Corpus cases share names: {string.Join("; ", duplicates)}");
    }

    private static void Add(List<HandshakeCase> cases, bool jwt, string name, HandshakeTemplate request)
        => cases.Add(new HandshakeCase(name, request.ToBytes(), jwt));

    private static void Add(List<HandshakeCase> cases, bool jwt, string name, byte[] request)
        => cases.Add(new HandshakeCase(name, request, jwt));

    /// <summary>One header of <paramref name="request"/>, changed every way a line can be.</summary>
    private static void AddHeaderCases(List<HandshakeCase> cases, bool jwt, HandshakeTemplate request, string header)
    {
        var index = request.IndexOf(header);
        var line = request.Lines[index];
        var value = line[(header.Length + 1)..].Trim();
        var middle = value.Length / 2;
        void Case(string what, params string[] lines) => Add(cases, jwt, $"{header}: {what}", request.Replace(index, lines));

        Case("dropped");
        Case("duplicated", line, line);
        Case("duplicated with another value", line, $"{header}: {Other(header)}");
        Add(cases, jwt, $"{header}: moved to the end", request with { Lines = [.. request.Lines.Where((_, i) => i != index), line] });
        Case("name lower-cased", $"{header.ToLowerInvariant()}: {value}");
        Case("name upper-cased", $"{header.ToUpperInvariant()}: {value}");
        Case("value upper-cased", $"{header}: {value.ToUpperInvariant()}");
        Case("value lower-cased", $"{header}: {value.ToLowerInvariant()}");
        Case("value padded with spaces", $"{header}:    {value}   ");
        Case("value padded with tabs", $"{header}:\t{value}\t\t");
        Case("no space after the colon", $"{header}:{value}");
        Case("space before the colon", $"{header} : {value}");
        Case("tab before the colon", $"{header}\t: {value}");
        Case("line starts with a space", $" {header}: {value}");
        Case("line starts with a tab", $"\t{header}: {value}");
        Case("value folded onto the next line (obs-fold)", $"{header}:", $" {value}");
        Case("value continued on a folded line", $"{header}: {value[..middle]}", $"\t{value[middle..]}");
        Case("value emptied", $"{header}:");
        Case("value emptied, spaces left", $"{header}:   ");
        Case("no colon", $"{header} {value}");
        Case("empty name", $": {value}");
        foreach (var invalid in InvalidValues(header))
        {
            Case($"value '{Printable(invalid)}'", $"{header}: {invalid}");
        }

        foreach (var (name, text) in Injected)
        {
            Case($"{name} in the value", $"{header}: {value[..middle]}{text}{value[middle..]}");
            Case($"{name} at the end of the value", $"{header}: {value}{text}");
            Case($"{name} in the name", $"{header[..2]}{text}{header[2..]}: {value}");
        }
    }

    private static string Other(string header) => header switch
    {
        "Host" => "other.example",
        "Connection" => "keep-alive",
        "Upgrade" => "h2c",
        "Sec-WebSocket-Version" => "8",
        "Sec-WebSocket-Key" => "AQIDBAUGBwgJCgsMDQ4PEA==",
        "Origin" => "http://other.example",
        "Authorization" => "Bearer not-a-token",
        _ => "other",
    };

    private static string[] InvalidValues(string header) => header switch
    {
        // Host: what Kestrel's host validation takes and refuses (host characters, ports, IPv6 literals).
        "Host" =>
        [
            "x:abc", ":80", "[::1", "127.0.0.1:", "[::1]", "[::1]:80", "[::]", "[::]:80", "[::1]x", "[::1]:", "[fe80::1%25eth0]",
            "[g::1]", "127.0.0.1", "127.0.0.1:7777", "localhost", "h:0", "h:99999", "h:8:0", "h.example.", "-h", "h_1.example",
            "h!$&'()~", "h*", "h+", "h,i", "h;i", "h=i", "h%41", "a@b", "u:p@h", "a/b", "h?", "h#", "h i", "xn--bcher-kva.example",
            "HUB.EXAMPLE:7777", "h:+80", "h: 80", "1.2.3.4.5", "h\"",
        ],
        "Connection" => ["close", "Upgrade, close", "close, Upgrade", "keep-alive", "keep-alive,Upgrade", "Upgrade,", ",Upgrade", "Upgrade ,keep-alive", "Upgrades", "\"Upgrade\"", "Upgrade;q=1", "Up grade"],
        "Upgrade" => ["h2c", "websocket, h2c", "h2c, websocket", "WebSocket", "websocket/13", "websockets", "websocket,", "web socket"],
        "Sec-WebSocket-Version" => ["8", "13, 8", "8, 13", "013", "1 3", "13.0", "+13", "14"],
        "Sec-WebSocket-Key" =>
        [
            "c2hvcnQ=", "dGhlIHNhbXBs ZSBub25jZQ==", "dGhlIHNhbXBsZSBub25jZQ", "dGhlIHNhbXBsZSBub25jZQ=", "dGhlIHNhbXBsZSBub25jZQ===",
            "dGhlIHNhbXBsZSBub25jZXg=", "AAAAAAAAAAAAAAAAAAAAAAAA", "AQIDBAUGBwgJCgsMDQ4P-_==", "AQIDBAUGBwgJCgsMDQ4PEA==AQIDBAUGBwgJCgsMDQ4PEA==",
            "dGhlIHNh\tbXBsZSBub25jZQ==",
        ],
        "Origin" => ["null", "http://other.example", "HTTP://APP.EXAMPLE", "http://app.example/", "http://app.example:80", $"{Origin}, {Origin}", "*"],
        "Authorization" => ["Bearer", "Bearer ", "bearer " + TestTokens.Hs256([Scope]), "Basic dXNlcjpwYXNz", "Bearer not-a-token", "Token " + TestTokens.Hs256([Scope])],
        _ => ["\"quoted\"", "a, b"],
    };

    /// <summary>The request line of <paramref name="path"/> and <paramref name="query"/>, changed every way it can be.</summary>
    private static void AddRequestLineCases(List<HandshakeCase> cases, bool jwt, string path, string query)
    {
        var valid = Valid(path + query);
        var target = path + query;
        void Line(string what, string requestLine) => Add(cases, jwt, $"request line: {what}", valid with { RequestLine = requestLine });
        void Target(string what, string newTarget) => Line(what, $"GET {newTarget} HTTP/1.1");
        string WithQuery(string newPath) => newPath + query;
        string Query(string extra) => query.Length == 0 ? path + "?" + extra : target + "&" + extra;

        foreach (var method in new[] { "POST", "HEAD", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT", "get", "Get", "FOO", "GETS" })
        {
            Line($"method {method}", $"{method} {target} HTTP/1.1");
        }

        Line("asterisk-form target", "GET * HTTP/1.1");
        Line("asterisk-form target with OPTIONS", "OPTIONS * HTTP/1.1");
        Line("authority-form target", $"GET {Host} HTTP/1.1");
        Line("authority-form target with CONNECT", $"CONNECT {Host} HTTP/1.1");
        Target("absolute-form target", $"http://{Host}{target}");
        Target("absolute-form target, https", $"https://{Host}{target}");
        Target("absolute-form target, upper-case scheme", $"HTTP://{Host}{target}");
        Target("absolute-form target, another authority than Host", $"http://other.example{target}");
        Target("absolute-form target, no port", $"http://hub.example{target}");
        Target("absolute-form target, userinfo", $"http://user:pass@{Host}{target}");
        Target("absolute-form target, ws scheme", $"ws://{Host}{target}");
        Target("absolute-form target, no path", $"http://{Host}");

        Target("dot segment ./", WithQuery("/organization/./1234"));
        Target("dot segment ../", WithQuery("/organization/../organization/1234"));
        Target("leading ./", WithQuery("/./organization/1234"));
        Target("leading ../", WithQuery("/../organization/1234"));
        Target("trailing /.", WithQuery("/organization/1234/."));
        Target("trailing /..", WithQuery("/organization/1234/.."));
        Target("../ to another scope", WithQuery("/organization/1234/../5678"));
        Target("percent-encoded dot segment", WithQuery("/organization/%2E%2E/organization/1234"));
        Target("half-encoded dot segment", WithQuery("/organization/.%2e/organization/1234"));
        Target("dots in a segment", WithQuery("/organization/12.34"));
        Target("percent-encoded digit", WithQuery("/organization/%31234"));
        Target("percent-encoded letter", WithQuery("/%6Frganization/1234"));
        Target("percent-encoded slash", WithQuery("/organization%2F1234"));
        Target("percent-encoded leading slash", WithQuery("/%2Forganization/1234"));
        Target("percent-encoded space", WithQuery("/organization/12%2034"));
        Target("percent-encoded NUL", WithQuery("/organization/1234%00"));
        Target("percent-encoded question mark", WithQuery("/organization/1234%3Fx"));
        Target("percent-encoded non-ASCII", WithQuery("/organization/%C3%A9"));
        Target("percent-encoded invalid UTF-8", WithQuery("/organization/%E9"));
        Target("lone percent sign", WithQuery("/organization/%"));
        Target("percent sign without hex digits", WithQuery("/organization/%zz"));
        Target("double slash at the start", WithQuery("//organization/1234"));
        Target("double slash in the middle", WithQuery("/organization//1234"));
        Target("trailing slash", WithQuery("/organization/1234/"));
        Target("only slashes", WithQuery("///"));
        Target("path upper-cased", WithQuery("/ORGANIZATION/1234"));
        Target("path capitalized", WithQuery("/Organization/1234"));
        Target("the unscoped stream", WithQuery("/"));
        Target("one segment", WithQuery("/organization"));
        Target("two pairs", WithQuery("/organization/1234/user/42"));
        Target("a segment of 65 characters", WithQuery("/organization/" + new string('1', 65)));
        Target("a segment of 64 characters", WithQuery("/organization/" + new string('1', 64)));
        Target("the health endpoint", WithQuery("/health/live"));
        Target("the health endpoint, upper-cased", WithQuery("/HEALTH/LIVE"));
        Target("the health prefix", WithQuery("/health"));
        Target("the SignalR endpoint", WithQuery("/hub"));
        Target("under the SignalR endpoint", WithQuery("/hub/negotiate"));
        Target("the publish endpoint", WithQuery("/publish"));
        Target("the channels endpoint", WithQuery("/channels"));
        Target("the stats endpoint", WithQuery("/stats"));
        Target("the metrics endpoint", WithQuery("/metrics"));
        Target("a pair under the channels prefix", WithQuery("/channels/x"));
        Target("fragment on the path", path + "#frag" + query);
        Target("empty query", query.Length == 0 ? path + "?" : target + "&");
        Target("query parameter", Query("a=b"));
        Target("query with a bad escape", Query("a=%zz"));
        Target("query with quotes", Query("a=\"q\""));
        Target("query with angle brackets", Query("a=<b>"));
        Target("query with braces", Query("a={b}"));
        Target("query with a pipe", Query("a=|"));
        Target("query with a backslash", Query("a=\\"));
        Target("query with a caret", Query("a=^"));
        Target("query with a backtick", Query("a=`"));
        Target("query with a fragment", Query("a#frag"));
        Target("query with a question mark", Query("a=?"));
        Target("since that is not an id", Query("since=nothex"));
        Target("since of 32 hex digits", Query("since=0123456789abcdef0123456789abcdef"));
        Target("since in upper-case hex", Query("since=0123456789ABCDEF0123456789ABCDEF"));

        foreach (var version in new[] { "HTTP/1.0", "HTTP/1.2", "HTTP/2.0", "HTTP/2", "HTTP/3", "http/1.1", "HTTP/1.1 ", "HTTP/ 1.1", "HTTP/11", "HTTP/1.1x", "HTTP/1.", "HTTPS/1.1" })
        {
            Line($"version '{version}'", $"GET {target} {version}");
        }

        Line("no version", $"GET {target}");
        Line("two spaces after the method", $"GET  {target} HTTP/1.1");
        Line("two spaces before the version", $"GET {target}  HTTP/1.1");
        Line("tab after the method", $"GET\t{target} HTTP/1.1");
        Line("tab before the version", $"GET {target}\tHTTP/1.1");
        Line("leading space", $" GET {target} HTTP/1.1");
        Line("empty line before it", $"\r\nGET {target} HTTP/1.1");
        Line("LF before it", $"\nGET {target} HTTP/1.1");
        Add(cases, jwt, "request line: ended by LF alone", Bytes($"GET {target} HTTP/1.1\n", valid with { RequestLine = string.Empty }, skipRequestLine: true));
        Add(cases, jwt, "every line ended by LF alone", valid with { LineEnd = "\n" });
        Add(cases, jwt, "head ended by LF LF after CRLF lines", Bytes(string.Empty, valid, trailer: "\n", dropFinalLineEnd: true));

        foreach (var (name, text) in Injected)
        {
            Line($"{name} in the method", $"GE{text}T {target} HTTP/1.1");
            Line($"{name} in the path", $"GET /organiza{text}tion/1234{query} HTTP/1.1");
            Line($"{name} in the query", $"GET {Query("a=b" + text + "c")} HTTP/1.1");
            Line($"{name} in the version", $"GET {target} HTTP/{text}1.1");
        }
    }

    /// <summary>Body framing and headers the hub does not read.</summary>
    private static void AddFramingCases(List<HandshakeCase> cases, bool jwt, HandshakeTemplate valid)
    {
        void Case(string what, HandshakeTemplate request) => Add(cases, jwt, what, request);

        Case("Content-Length: 0", valid.Add("Content-Length: 0"));
        Case("Content-Length: 5 and a body", valid.Add("Content-Length: 5") with { Tail = "hello" });
        Case("Content-Length: -1", valid.Add("Content-Length: -1"));
        Case("Content-Length: abc", valid.Add("Content-Length: abc"));
        Case("two Content-Lengths", valid.Add("Content-Length: 0", "Content-Length: 1"));
        Case("Transfer-Encoding: chunked and an empty body", valid.Add("Transfer-Encoding: chunked") with { Tail = "0\r\n\r\n" });
        Case("Transfer-Encoding: identity", valid.Add("Transfer-Encoding: identity"));
        Case("Transfer-Encoding and Content-Length", valid.Add("Transfer-Encoding: chunked", "Content-Length: 0") with { Tail = "0\r\n\r\n" });
        Case("Expect: 100-continue", valid.Add("Expect: 100-continue"));
        Case("Expect: nonsense", valid.Add("Expect: nonsense"));
        Case("Sec-WebSocket-Protocol offered", valid.Add("Sec-WebSocket-Protocol: chat"));
        Case("Sec-WebSocket-Extensions offered", valid.Add("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits"));
        Case("X-Forwarded-For", valid.Add("X-Forwarded-For: 10.0.0.1"));
        Case("X-Forwarded-Host and Proto", valid.Add("X-Forwarded-Host: other.example", "X-Forwarded-Proto: https"));
        Case("Forwarded", valid.Add("Forwarded: for=10.0.0.1;host=other.example"));
        Case("X-HTTP-Method-Override", valid.Add("X-HTTP-Method-Override: POST"));
        Case("Cookie", valid.Add("Cookie: a=b"));
        Case("Authorization with a bad token", valid.Add("Authorization: Bearer not-a-token"));
        Case("HTTP2-Settings in Connection", valid with { Lines = [.. valid.Lines.Select(l => l == "Connection: Upgrade" ? "Connection: Upgrade, HTTP2-Settings" : l), "HTTP2-Settings: AAMAAABkAAQAAP__"] });
        Case("a WebSocket frame after the head", valid with { Tail = Encoding.Latin1.GetString(new WebSocketFrame(WebSocketFrame.Text, "unsubscribe"u8.ToArray()).ToBytes()) });
        Case("a second request after the head", valid with { Tail = $"GET /organization/5 HTTP/1.1\r\nHost: {Host}\r\n\r\n" });
        Case("a header of 1000 bytes", valid.Add("X-Long: " + new string('a', 1000)));
    }

    /// <summary>Each of Kestrel's limits (which the hubs set small) at, just under and just past its edge.</summary>
    private static void AddLimitCases(List<HandshakeCase> cases, bool jwt, string path, string query, ParityLimits limits)
    {
        var valid = Valid(path + query);
        var separator = query.Length == 0 ? "?" : "&";

        // The request line's length counts its CRLF.
        var lineBase = $"GET {path}{query}{separator}pad= HTTP/1.1".Length + 2;
        foreach (var delta in new[] { -1, 0, 1, 2 })
        {
            var pad = new string('a', limits.MaxRequestLineSize + delta - lineBase);
            Add(cases, jwt, $"request line {Delta(delta)} MaxRequestLineSize", valid with { RequestLine = $"GET {path}{query}{separator}pad={pad} HTTP/1.1" });
        }

        // The header section's length: every header line with its CRLF, and the empty line's CRLF.
        var headersBase = valid.Lines.Sum(l => l.Length + 2) + "X-Pad: ".Length + 2 + 2;
        foreach (var delta in new[] { -1, 0, 1, 2, 3 })
        {
            var pad = new string('a', limits.MaxRequestHeadersTotalSize + delta - headersBase);
            Add(cases, jwt, $"headers {Delta(delta)} MaxRequestHeadersTotalSize", valid.Add($"X-Pad: {pad}"));
        }

        foreach (var delta in new[] { -1, 0, 1 })
        {
            var extra = Enumerable.Range(0, limits.MaxRequestHeaderCount + delta - valid.Lines.Count).Select(i => $"X-{i}: {i}").ToArray();
            Add(cases, jwt, $"header count {Delta(delta)} MaxRequestHeaderCount", valid.Add(extra));
        }
    }

    /// <summary>Requests whose head never ends: the hubs' short header timeout answers them.</summary>
    private static void AddIncompleteCases(List<HandshakeCase> cases, HandshakeTemplate valid)
    {
        var whole = valid.ToBytes();
        Add(cases, false, "incomplete: no empty line", whole[..^2]);
        Add(cases, false, "incomplete: cut in a header", whole[..(whole.Length / 2)]);
        Add(cases, false, "incomplete: request line only", Bytes(valid.RequestLine + "\r\n", valid with { Lines = [] }, skipRequestLine: true, dropFinalLineEnd: true));
    }

    private static void AddTokenCases(List<HandshakeCase> cases, string token)
    {
        var other = TestTokens.Hs256(["organization.5"]);
        var wildcard = TestTokens.Hs256(["organization.*"]);
        var expired = TestTokens.Hs256([Scope], expiresIn: TimeSpan.FromMinutes(-5));
        var wrongKey = TestTokens.Hs256([Scope], key: "another-signing-key-that-is-long-enough-for-hs256");
        var none = TestTokens.AlgNone([Scope]);
        void Case(string what, HandshakeTemplate request) => Add(cases, true, $"token: {what}", request);

        Case("none", Valid());
        Case("of another scope", Valid($"{Path}?access_token={other}"));
        Case("granting organization.*", Valid($"{Path}?access_token={wildcard}"));
        Case("expired", Valid($"{Path}?access_token={expired}"));
        Case("signed with another key", Valid($"{Path}?access_token={wrongKey}"));
        Case("alg none", Valid($"{Path}?access_token={none}"));
        Case("truncated", Valid($"{Path}?access_token={token[..^5]}"));
        Case("in the Authorization header", Valid().Add($"Authorization: Bearer {token}"));
        Case("in the query and another scope's in the header", Valid($"{Path}?access_token={token}").Add($"Authorization: Bearer {other}"));
        Case("of another scope in the query and the right one in the header", Valid($"{Path}?access_token={other}").Add($"Authorization: Bearer {token}"));
        Case("empty access_token", Valid($"{Path}?access_token="));
        Case("access_token twice", Valid($"{Path}?access_token={token}&access_token={token}"));
        Case("access_token twice, the first bad", Valid($"{Path}?access_token=bad&access_token={token}"));
        Case("access_token upper-cased name", Valid($"{Path}?ACCESS_TOKEN={token}"));
        Case("dots percent-encoded", Valid($"{Path}?access_token={token.Replace(".", "%2E", StringComparison.Ordinal)}"));
        Case("for the unscoped stream", Valid($"/?access_token={token}"));
        Case("wildcard, for the unscoped stream", Valid($"/?access_token={wildcard}"));
    }

    private static string Delta(int delta) => delta switch
    {
        < 0 => $"{-delta} under",
        0 => "at",
        _ => $"{delta} past",
    };

    /// <summary>A request built by hand around a template's headers, for line ends the template cannot express.</summary>
    private static byte[] Bytes(string prefix, HandshakeTemplate request, bool skipRequestLine = false, string trailer = "", bool dropFinalLineEnd = false)
    {
        var whole = Encoding.Latin1.GetString(request.ToBytes());
        if (skipRequestLine)
        {
            whole = whole[(request.RequestLine.Length + request.LineEnd.Length)..];
        }

        if (dropFinalLineEnd)
        {
            whole = whole[..^request.LineEnd.Length];
        }

        return Encoding.Latin1.GetBytes(prefix + whole + trailer);
    }

    private static string Printable(string text)
        => string.Concat(text.Select(c => c is < ' ' or > '~' ? $"\\x{(int)c:X2}" : c.ToString()));
}
