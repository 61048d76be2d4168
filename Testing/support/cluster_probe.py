"""Run on a Dask worker by the cluster tests (client.run): what of a run's key the worker still holds."""
import gc
import sys


def key_holders(key_hex: str, dask_worker=None) -> dict:
    """The worker's de-identifiers (cluster._engines and every live Deidentifier), the tasks of any run
    it holds (`dask_worker`: given by client.run), and how many live objects other than this call
    refer to the key (given in hex, so that the call's own arguments are not among them): what the
    garbage collector sees (attributes, arguments, containers, frames), not memory already freed."""
    from DicomDeidentifyLib import cluster
    from DicomDeidentifyLib.engine import Deidentifier
    key = bytes.fromhex(key_hex)   # a local, not in a cell (no closure below uses it): not among the holders
    gc.collect()
    here = sys._getframe()
    holders = deidentifiers = 0
    for thing in gc.get_objects():
        if thing is here:
            continue
        deidentifiers += isinstance(thing, Deidentifier)
        for referent in gc.get_referents(thing):
            if type(referent) is bytes and referent == key:
                holders += 1
                break
    return {"engines": len(cluster._engines), "deidentifiers": deidentifiers, "holders": holders,
            "tasks": len([k for k in dask_worker.state.tasks if str(k).startswith("deidentify-")])}
