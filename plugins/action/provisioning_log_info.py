# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.entra.provisioning.plugins.plugin_utils._graph_action import GraphActionBase
from ansible_collections.entra.provisioning.plugins.module_utils._provisioning_logs import MODULE_SPEC, run_provisioning_log_info


class ActionModule(GraphActionBase):
    module_spec = MODULE_SPEC
    module_logic = staticmethod(run_provisioning_log_info)
