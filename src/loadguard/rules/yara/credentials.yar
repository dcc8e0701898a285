// Credential harvesting: the places secrets live on a developer machine or a
// cloud VM. One path alone is medium (tools legitimately read ~/.netrc);
// several different secret stores in one file is what a stealer looks like.
// Paths are matched written out ("~/.aws/credentials") and joined in Python
// (os.path.join(home, ".aws", "credentials"), Path.home() / ".ssh" / "id_rsa").

rule LG_YARA_CRED_STORES
{
    meta:
        id = "LG-YARA-CRED-001"
        cwe = "CWE-522"
        severity = "medium"
        description = "Reference to a credential store (cloud keys, SSH keys, tokens)"
        family = "credential-harvest"
    strings:
        $aws = /\.aws([\/\\]+|["']\s*[,\/+]\s*["'])(credentials|config)\b/ ascii
        $ssh = /\.ssh([\/\\]+|["']\s*[,\/+]\s*["'])(id_(rsa|dsa|ecdsa|ed25519)(_sk)?\b|id_\*|authorized_keys\b|known_hosts\b)/ ascii
        $netrc = /[~\/\\"']\.netrc\b/ ascii
        $hf = /\.cache([\/\\]+|["']\s*[,\/+]\s*["'])huggingface([\/\\]+|["']\s*[,\/+]\s*["'])(token|stored_tokens)\b/ ascii
        $hf_legacy = /[~\/\\"']\.huggingface([\/\\]+|["']\s*[,\/+]\s*["'])token\b/ ascii
        $gitcred = ".git-credentials" ascii
        $docker = /\.docker([\/\\]+|["']\s*[,\/+]\s*["'])config\.json/ ascii
        $kube = /\.kube([\/\\]+|["']\s*[,\/+]\s*["'])config\b/ ascii
        $gcloud = /gcloud[\/\\]+(credentials\.db|application_default_credentials\.json|access_tokens\.db)/ ascii
        $azure = /\.azure[\/\\]+(accessTokens\.json|msal_token_cache)/ ascii
        $gh = /\.config[\/\\]+gh[\/\\]+hosts\.ya?ml/ ascii
        $shadow = "/etc/shadow" ascii
        $pypirc = /[~\/\\"']\.pypirc\b/ ascii
        $npmrc = /[~\/\\"']\.(npmrc|pgpass)\b/ ascii
        $browser = /(Login\\? Data|Cookies)["'].{0,80}(Chrome|Chromium)|(Chrome|Chromium|google-chrome|chromium|BraveSoftware|Microsoft[\/\\]+Edge)[\/\\]+[^"'\n]{0,60}(Login\\? Data|Cookies|Local State)\b/ ascii
        $firefox = /(\.mozilla[\/\\]+firefox|Firefox[\/\\]+Profiles)[\/\\]+[^"'\n]{0,60}(logins\.json|key4\.db|cookies\.sqlite)/ ascii
    condition:
        filesize < 64MB and any of them
}

rule LG_YARA_CRED_MULTI
{
    meta:
        id = "LG-YARA-CRED-002"
        cwe = "CWE-522"
        severity = "high"
        description = "Several different credential stores referenced in one file (stealer pattern)"
        family = "credential-harvest"
    strings:
        $aws = /\.aws([\/\\]+|["']\s*[,\/+]\s*["'])(credentials|config)\b/ ascii
        $ssh = /\.ssh([\/\\]+|["']\s*[,\/+]\s*["'])(id_(rsa|dsa|ecdsa|ed25519)(_sk)?\b|id_\*|authorized_keys\b)/ ascii
        $netrc = /[~\/\\"']\.netrc\b/ ascii
        $hf = /\.cache([\/\\]+|["']\s*[,\/+]\s*["'])huggingface([\/\\]+|["']\s*[,\/+]\s*["'])(token|stored_tokens)\b/ ascii
        $gitcred = ".git-credentials" ascii
        $docker = /\.docker([\/\\]+|["']\s*[,\/+]\s*["'])config\.json/ ascii
        $kube = /\.kube([\/\\]+|["']\s*[,\/+]\s*["'])config\b/ ascii
        $gcloud = /gcloud[\/\\]+(credentials\.db|application_default_credentials\.json)/ ascii
        $shadow = "/etc/shadow" ascii
        $pypirc = /[~\/\\"']\.pypirc\b/ ascii
        $npmrc = /[~\/\\"']\.(npmrc|pgpass)\b/ ascii
        $browser = /(Chrome|Chromium|google-chrome|chromium|BraveSoftware|Microsoft[\/\\]+Edge)[\/\\]+[^"'\n]{0,60}(Login\\? Data|Cookies)\b|(\.mozilla[\/\\]+firefox|Firefox[\/\\]+Profiles)[\/\\]+[^"'\n]{0,60}(logins\.json|key4\.db)/ ascii
    condition:
        filesize < 64MB and 2 of them
}

rule LG_YARA_CRED_CLOUD_METADATA
{
    meta:
        id = "LG-YARA-CRED-003"
        cwe = "CWE-200"
        severity = "high"
        description = "Cloud instance metadata endpoint (instance credentials)"
        family = "credential-harvest"
    strings:
        $aws = "169.254.169.254" ascii
        $aws6 = "fd00:ec2::254" ascii
        $gcp = "metadata.google.internal" ascii
        $azure = "169.254.169.254/metadata/identity" ascii
        $alibaba = "100.100.100.200" ascii
    condition:
        any of them
}

rule LG_YARA_CRED_ENV_DUMP
{
    meta:
        id = "LG-YARA-CRED-004"
        cwe = "CWE-200"
        severity = "high"
        description = "Secret-bearing environment variables or a credential store sent over the network"
        family = "credential-harvest"
    strings:
        $tok1 = /\b(HF_TOKEN|HUGGING_FACE_HUB_TOKEN|AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN|GITHUB_TOKEN|OPENAI_API_KEY|WANDB_API_KEY)\b/ ascii
        $all = /dict\s*\(\s*os\.environ\s*\)|os\.environ\.copy\(\)|json\.dumps\s*\(\s*(dict\s*\()?\s*os\.environ|str\s*\(\s*os\.environ\s*\)/ ascii
        $send1 = /requests\.(post|put)\s*\(/ ascii
        $send2 = /urlopen\s*\(/ ascii
        $send3 = /\.send(all)?\s*\(/ ascii
        $send4 = /httpx\.(post|put)\s*\(/ ascii
        $send5 = /urlopen\s*\([^)\n]{0,200}\bdata\s*=/ ascii
        // stores no ordinary tool reads (not ~/.netrc or ~/.pypirc: pip and twine do), in a
        // file that also posts data (not a plain urlopen GET or a socket .send)
        $store_aws = /\.aws([\/\\]+|["']\s*[,\/+]\s*["'])credentials\b/ ascii
        $store_ssh = /\.ssh([\/\\]+|["']\s*[,\/+]\s*["'])(id_(rsa|dsa|ecdsa|ed25519)(_sk)?\b|id_\*)/ ascii
        $store_hf = /huggingface([\/\\]+|["']\s*[,\/+]\s*["'])(token|stored_tokens)\b/ ascii
        $store_misc = /\.git-credentials\b|\.docker[\/\\]+config\.json|\.kube[\/\\]+config\b/ ascii
        // shell: env | curl -d @-, curl -d "$(printenv)", curl ...?t=$HF_TOKEN (not a Bearer header)
        $sh_env_pipe = /\b(env|printenv)\s*\|[^\n]{0,80}\b(curl|wget|nc|ncat)\s/ ascii
        $sh_env_subst = /\b(curl|wget)\s[^\n]{0,200}\$\(\s*(env|printenv)\s*\)/ ascii
        // the secret as a query or form value (an Authorization header to the token's own API is normal)
        $sh_tok = /\b(curl|wget)\s[^\n]{0,200}[?&=]\$\{?(HF_TOKEN|HUGGING_FACE_HUB_TOKEN|AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN|GITHUB_TOKEN|OPENAI_API_KEY|WANDB_API_KEY)\b/ ascii
        // a credential directory or file archived or read and piped to the network
        $sh_store = /(~|\$HOME|\$\{HOME\})\/\.(ssh|aws|gnupg|kube|docker|git-credentials|netrc|cache\/huggingface\/token)[^\n|]{0,80}\|[^\n]{0,80}\b(curl|wget|nc|ncat)\s/ ascii
        $sh_upload = /\b(curl|wget)\s[^\n]{0,200}(@|--post-file[\s=]+|--upload-file\s+)(~|\$HOME|\$\{HOME\})\/\.(ssh|aws|gnupg|kube|docker|git-credentials|netrc|cache\/huggingface)/ ascii
    condition:
        filesize < 64MB and (
            (($tok1 or $all) and any of ($send*)) or
            (any of ($store_*) and ($send1 or $send4 or $send5)) or
            any of ($sh_*)
        )
}
