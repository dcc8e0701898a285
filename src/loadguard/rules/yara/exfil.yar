// Exfiltration endpoints: chat webhooks, paste sites, request catchers and
// tunnels. Model-loading code has no reason to contact any of them.

rule LG_YARA_EXFIL_WEBHOOK
{
    meta:
        id = "LG-YARA-EXFIL-001"
        cwe = "CWE-200"
        severity = "high"
        description = "Chat webhook or bot API endpoint (common exfiltration channel)"
        family = "exfiltration"
    strings:
        $discord = /discord(app)?\.com\/api\/webhooks\/[0-9]+/ ascii nocase
        $slack = /hooks\.slack\.com\/(services|workflows)\/[A-Z0-9]+/ ascii
        $telegram = /api\.telegram\.org\/bot[0-9]*/ ascii
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
        description = "Paste site, request catcher or tunnel endpoint"
        family = "exfiltration"
    strings:
        $paste1 = /pastebin\.com\/(raw|api)/ ascii nocase
        $paste2 = /\b(paste\.ee|hastebin\.com|ghostbin\.\w+|rentry\.co|dpaste\.(com|org))\/(raw|api|p)?/ ascii nocase
        $catch1 = /\bwebhook\.site\// ascii nocase
        $catch2 = /\b[\w-]+\.(requestbin\.(com|net)|pipedream\.net|m\.pipedream\.net|oast\.(fun|me|pro|live|site|online)|interact\.sh|burpcollaborator\.net|canarytokens\.com)\b/ ascii nocase
        $tunnel = /\b[\w-]+\.(ngrok\.io|ngrok-free\.app|trycloudflare\.com|serveo\.net|localhost\.run)\b/ ascii nocase
        $transfer = /\btransfer\.sh\/[\w.-]+/ ascii nocase
    condition:
        any of them
}
