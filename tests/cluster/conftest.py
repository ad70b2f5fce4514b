"""Cluster tests: real redis-server and nginx, two app instances (cluster_servers.py)."""

import sys

import pytest
from cluster_servers import Cluster, missing

if missing():
    pytest.skip(f"the cluster tests need {' and '.join(missing())} (Debian's packages: "
                "`make test` installs them when missing)", allow_module_level=True)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def cluster(request):
    servers = Cluster(**getattr(request, "param", {})).start()   # settings, if parametrized
    yield servers
    failed = getattr(request.node, "report_call", None)
    if failed is not None and failed.failed:
        sys.stderr.write(servers.logs())   # the instances' and nginx's logs beside the failure
    servers.stop()
    servers.cleanup()
