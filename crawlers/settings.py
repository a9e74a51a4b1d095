"""Scrapy settings shared by every Pantau spider. Per-site differences live on the spider
classes; values that people tune (user agent, delays, limits) come from Pantau's settings
through `crawlers.runner.scrapy_settings`."""

BOT_NAME = "pantau"
SPIDER_MODULES = ["crawlers.spiders"]
NEWSPIDER_MODULE = "crawlers.spiders"

ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
# Scrapy's own downloader lets a domain have up to CONCURRENT_REQUESTS in flight when there
# is no download delay; ours keeps CONCURRENT_REQUESTS_PER_DOMAIN (see crawlers.downloader).
DOWNLOADER = "crawlers.downloader.PoliteDownloader"
# Scrapy starts this many asyncio tasks for every response's output (default 100) to run
# item pipelines in parallel; ours are synchronous, so the tasks only cost CPU.
CONCURRENT_ITEMS = 1
DOWNLOAD_DELAY = 1.0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 5_000_000
RETRY_ENABLED = True
RETRY_TIMES = 2
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
COOKIES_ENABLED = False
# A news page redirects once or twice (http→https, old slug→new); more is a loop.
REDIRECT_MAX_TIMES = 5
TELNETCONSOLE_ENABLED = False
# Scrapy 2.19's remote control: an HTTP server that runs code sent to it; not wanted.
REMOTE_CONTROL_ENABLED = False
# Scrapy checks every callback for a generator returning a value by parsing its source;
# its cache is keyed by the bound method, new for every response, so it parsed the source
# again for each page (~0.5 ms). Our callbacks return nothing.
WARN_ON_GENERATOR_RETURN_VALUE = False
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
FEED_EXPORT_ENCODING = "utf-8"

DOWNLOADER_MIDDLEWARES = {
    "crawlers.middlewares.PageArchiveMiddleware": 950,
    # After the downloader, before RetryMiddleware (550) in the response direction.
    "crawlers.middlewares.RetryBackoffMiddleware": 560,
}
# Seconds before the first retry of a 5xx/429 (doubling after each), and the longest
# Retry-After the crawler waits for; both from Pantau's settings.
PANTAU_RETRY_BACKOFF = 1.0
PANTAU_MAX_RETRY_AFTER = 60.0
ITEM_PIPELINES = {
    "crawlers.pipelines.ArticleStorePipeline": 300,
    "crawlers.pipelines.JsonlPipeline": 400,
}
LOG_LEVEL = "INFO"
